-- ring: n services (bench/ringnode.lua) in a ring, each sending what it
-- gets to the next with tern.send. `tokens` tokens (default 1) start at
-- evenly spaced services and go round until `hops` messages in all have
-- been passed; each service hands a token on as soon as it has it, so
-- with one token only one service runs at a time (every hop is a hand-off
-- between two services), and with more they may run in parallel. No
-- skynet twin: tern only.
--   BENCH_ARG="n=1000 hops=1000000 tokens=1" tern run bench/ring.lua
-- prints RESULT ring hops=... hops_per_sec=... n=... sec=... tokens=... us_per_hop=...
local tern = require "tern"
local bench = require "benchlib"

local S = {}
local me = {}
local left = 0

function S.done()
	left = left - 1
	if left == 0 then
		tern.wakeup(me)
	end
end

tern.start(function(arg)
	local o = bench.opts(arg)
	local n, hops, tokens = o.n or 1000, o.hops or 1000000, o.tokens or 1
	local per = math.floor(hops / tokens)
	hops = per * tokens
	local ring = {}
	for i = 1, n do
		ring[i] = tern.newservice("ringnode")
	end
	local self = tern.self()
	for i = 1, n do
		tern.call(ring[i], "link", self, ring[i % n + 1])
	end
	left = tokens
	local t0 = tern.now()
	for t = 0, tokens - 1 do
		tern.send(ring[math.floor(t * n / tokens) + 1], "pass", per)
	end
	tern.wait(me)
	local sec = bench.since(t0)
	bench.result("ring", { n = n, tokens = tokens, hops = hops, sec = sec,
		hops_per_sec = math.floor(hops / sec), us_per_hop = sec * 1e6 / hops })
	tern.shutdown()
end)

return S
