-- spawner: newservice, good and bad.
local tern = require "tern"
local S = {}

function S.spawn(script, ...)
	local ok, addr = pcall(tern.newservice, script, ...)
	return ok, addr
end

function S.spawn_and_call(script, ...)
	local addr = tern.newservice(script, ...)
	return tern.call(addr, "get")
end

return S
