-- sender: the Go BenchmarkLuaSend drives run: n one-way sends to
-- bench/counter.lua, then one call, which answers after every send before
-- it was handled (a service handles its messages in order).
local tern = require "tern"
local S = {}

function S.run(target, n)
	for _ = 1, n do
		tern.send(target, "inc")
	end
	return tern.call(target, "count")
end

return S
