-- db: a key-value store, declared on the data node.
local tern = require "tern"

local store = {}
local S = {}

function S.set(k, v)
	store[k] = v
	return "OK"
end

function S.get(k)
	return store[k]
end

-- The address of this service, to be used from another node.
function S.whoami()
	return tern.self()
end

-- Calls back the address it was given (from another node).
function S.callback(addr, cmd)
	return tern.call(addr, cmd or "ping")
end

return S
