-- spawner: starts n agents, and reloads every service running a script.
local tern = require "tern"
local S = {}
function S.spawn(n)
	for _ = 1, n do tern.newservice("agent") end
	return n
end
function S.reloadall(script)
	local n, failed = tern.reload({script = script})
	local f = 0
	for _ in pairs(failed) do f = f + 1 end
	return n, f
end
return S
