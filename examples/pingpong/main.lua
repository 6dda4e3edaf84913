-- pingpong: two Lua services calling each other; prints calls per second.
local tern = require "tern"

local seconds = 3
local a = tern.newservice("player")
local b = tern.newservice("player")

for i = 1, seconds do
	local calls = tern.call(a, "play", b, 1000) -- play for 1000 ms
	print(string.format("round %d: %d calls/s", i, calls))
end

tern.shutdown()
