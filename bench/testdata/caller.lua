-- caller: the Go BenchmarkLuaCall drives run; each tern.call is one
-- Lua->Lua round trip to bench/pong.lua.
local tern = require "tern"
local S = {}

function S.run(target, n)
	for i = 1, n do
		if tern.call(target, "ping", i) ~= i + 1 then
			error("ping " .. i .. ": wrong answer")
		end
	end
	return n
end

return S
