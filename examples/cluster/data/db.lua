-- db: a key-value store, on the data node. Its handlers do not know
-- which node calls them.
local tern = require "tern"

local store = {}

tern.start(function()
	tern.log("db started")
end)

local S = {}

function S.set(k, v)
	store[k] = v
	return "OK"
end

function S.get(k)
	return store[k]
end

function S.del(k)
	local had = store[k] ~= nil
	store[k] = nil
	return had
end

return S
