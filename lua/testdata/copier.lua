-- copier: deep copy of values between two Lua services.
local tern = require "tern"
local S = {}

function S.roundtrip(target)
	local t = { 1, 2, "three", { nested = { deep = true } }, name = "x", [10] = "ten", bin = "a\0b\255" }
	local r = tern.call(target, "echo", nil, true, false, 42, -1.5, "str", t)
	return r
end

function S.all(target)
	local t = { 1, 2, "three", { nested = { deep = true } }, name = "x", [10] = "ten", bin = "a\0b\255" }
	local a, b, c, d, e, f, g = tern.call(target, "echo", nil, true, false, 42, -1.5, "str", t)
	t.name = "changed" -- the copy must not see this
	return a == nil, b, c, d, e, f, g.name, g[1], g[3], g[4].nested.deep, g[10], g.bin == "a\0b\255", g ~= t
end

function S.cycle(target)
	local t = { a = {} }
	t.a.b = t
	return pcall(tern.call, target, "echo", t)
end

function S.func(target)
	return pcall(tern.call, target, "echo", { handler = function() end })
end

function S.still()
	return "fine"
end

return S
