-- call: Lua->Lua call throughput. The bootstrap makes n sequential
-- tern.call round trips to a pong service (bench/pong.lua) and prints the
-- rate. Run: go run ./cmd/tern run bench/call.lua
-- (the skynet twin: one service skynet.call-ing another in a loop).
local tern = require "tern"
local n = tonumber((...)) or 1000000

local pong = tern.newservice("pong")
tern.call(pong, "ping", 0) -- one round trip before the clock starts

local t0 = tern.now()
for i = 1, n do
	if tern.call(pong, "ping", i) ~= i + 1 then
		error("ping " .. i .. ": wrong answer")
	end
end
local ms = math.max(tern.now() - t0, 1)
print(string.format("call: %d calls in %d ms: %.0f calls/s", n, ms, n * 1000 / ms))
tern.shutdown()
