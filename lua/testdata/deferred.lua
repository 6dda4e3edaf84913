-- deferred: tern.response answers later, from another task.
local tern = require "tern"
local S = {}
local pending = {}

function S.later(key)
	pending[key] = tern.response()
end

function S.answer(key, ...)
	local resp = pending[key]
	pending[key] = nil
	return resp(true, ...), resp(true, "again")
end

function S.reject(key, msg)
	local resp = pending[key]
	pending[key] = nil
	return resp(false, msg)
end

function S.timed(ms, v)
	local resp = tern.response()
	tern.timeout(ms, function() resp(true, v) end)
end

return S
