-- send: Lua->Lua one-way messages, unbatched, skynet's `run.sh send`
-- (bench_main.lua's bench.send). `senders` services (bench/sendloop.lua)
-- each fire n/senders tern.send(recv, "inc", i) at one receiver
-- (bench/recv.lua), back to back; the clock stops when the receiver,
-- having counted all n, answers the bootstrap's deferred "wait" call.
--   BENCH_ARG="n=1000000 senders=1" tern run bench/send.lua
-- prints RESULT send msgs_per_sec=... n=... recv_span_sec=... sec=... senders=...
-- Nothing paces the senders, so the receiver's queue grows (tern warns
-- "may overload" at 1,024 queued messages and at each doubling) and a
-- send fails once 2^20 requests are queued (actor.Options.MailboxLimit):
-- keep n at about 1M, not skynet's default 2M.
local tern = require "tern"
local bench = require "benchlib"

tern.start(function(arg)
	local o = bench.opts(arg)
	local n, senders = o.n or 1000000, o.senders or 1
	local recv = tern.newservice("recv")
	local per = math.floor(n / senders)
	n = per * senders
	tern.call(recv, "expect", n)
	local ss = {}
	for i = 1, senders do
		ss[i] = tern.newservice("sendloop")
	end
	local t0 = tern.now()
	for i = 1, senders do
		tern.send(ss[i], "go", recv, per)
	end
	local count, first, last = tern.call(recv, "wait")
	local sec = bench.since(t0)
	bench.result("send", { senders = senders, n = count, sec = sec,
		msgs_per_sec = math.floor(count / sec), recv_span_sec = (last - first) / 1000 })
	tern.shutdown()
end)
