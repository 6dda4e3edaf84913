-- mirror: returns what it gets, calls Go services, reports types.
local tern = require "tern"
tern.register("mirror")
local S = {}
function S.echo(...) return ... end
function S.types(...)
	local out = {}
	for i = 1, select("#", ...) do out[i] = type((select(i, ...))) end
	return out
end
function S.viago(cmd, ...) return tern.call("gosvc", cmd, ...) end
function S.spawn_go(...) local a = tern.newservice("gosvc", ...) return tern.call(a, "args") end
return S
