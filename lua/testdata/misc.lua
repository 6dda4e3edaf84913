-- misc: calltimeout, require, print, send, Go services.
local tern = require "tern"
local util = require "util"
local sibling = require "sibling"
local S = {}
local got = {}

function S.modules()
	return util.double(21), sibling.name, require("util") == util
end

function S.slow_call(target, ms)
	return pcall(tern.calltimeout, ms, target, "hold", 1000)
end

function S.fast_call(target)
	return tern.calltimeout(1000, target, "add", 1, 2)
end

-- many_calls makes n answered calltimeouts with an hour's timeout.
function S.many_calls(target, n)
	for i = 1, n do
		assert(tern.calltimeout(3600000, target, "add", i, 1) == i + 1)
	end
	return n
end

function S.printing(...)
	print("printed", ...)
	tern.error("an error line")
end

function S.note(x)
	got[#got + 1] = x
end

function S.notes()
	return got
end

function S.sender(target, n)
	for i = 1, n do
		tern.send(target, "note", i)
	end
	return tern.call(target, "notes")
end

function S.call_go(target, ...)
	return tern.call(target, ...)
end

-- big builds a large table, joins it, and sends it through another service
function S.big(target, n)
	local t = {}
	for i = 1, n do
		t[i] = tostring(i)
	end
	local joined = table.concat(t, ",")
	local back = tern.call(target, "echo", t)
	return #joined, #back, back[n], select("#", unpack(t, 1, 5000))
end

-- self_call calls this very service while handling a call
function S.self_call()
	return tern.call(tern.self(), "ping_self", 41)
end

function S.ping_self(n)
	return n + 1
end

function S.misuse()
	local errs = {}
	local function try(f, ...)
		local ok, err = pcall(f, ...)
		errs[#errs + 1] = ok and "no error" or err
	end
	try(function() tern.call(nil, "x") end)
	try(function() tern.call(tern.self(), {}) end)
	try(function() tern.send(":zz", "x") end)
	try(function() tern.sleep("soon") end)
	return errs
end

return S
