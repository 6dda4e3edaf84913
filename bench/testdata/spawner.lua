-- spawner: the Go BenchmarkSpawnFromLua drives run: n sequential
-- tern.newservice of a script, each waiting for the child's init.
local tern = require "tern"
local S = {}

function S.run(script, n)
	for i = 1, n do
		tern.newservice(script, "idle" .. i)
	end
	return n
end

return S
