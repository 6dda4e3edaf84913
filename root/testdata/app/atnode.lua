-- atnode: name@node on a runtime in no cluster; each way of using one
-- returns its error.
local tern = require "tern"

local function try(f, ...)
	local ok, err = pcall(f, ...)
	return ok and "ok" or tostring(err)
end

local S = {}

function S.errors(name)
	return {
		send = try(tern.send, name, "x"),
		call = try(tern.call, name, "x"),
		query = try(tern.query, name, 1000),
		unique = try(tern.uniqueservice, name),
		register = try(tern.register, name),
		cluster = try(tern.register, "plain", { cluster = true }),
		option = try(tern.register, "other", { clustr = true }),
		nodes = #tern.nodes(),
	}
end

return S
