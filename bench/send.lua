-- send: Lua->Lua one-way message throughput. The bootstrap sends n
-- tern.send to a counter service (bench/counter.lua), in runs of 1,000
-- each ended by a tern.call (messages are handled in order, so its answer
-- means every send before it arrived; it also keeps the counter's queue
-- under the 1,024 messages at which tern warns "may overload"), and
-- prints the rate.
-- Run: go run ./cmd/tern run bench/send.lua
local tern = require "tern"
local n = tonumber((...)) or 1000000
local batch = 1000

local counter = tern.newservice("counter")
tern.call(counter, "count")

local t0 = tern.now()
local sent, total = 0, 0
while sent < n do
	local k = math.min(batch, n - sent)
	for _ = 1, k do
		tern.send(counter, "inc")
	end
	sent = sent + k
	total = tern.call(counter, "count")
end
local ms = math.max(tern.now() - t0, 1)
if total ~= n then
	error("counted " .. total .. " of " .. n)
end
print(string.format("send: %d messages in %d ms: %.0f msgs/s", n, ms, n * 1000 / ms))
tern.shutdown()
