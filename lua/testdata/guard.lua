-- guard: pcall, xpcall and the script's own coroutines across blocking calls.
local tern = require "tern"
local S = {}

function S.pcall_call(target)
	local ok, err = pcall(tern.call, target, "boom", "inner")
	local ok2, v = pcall(tern.call, target, "add", 1, 2)
	return ok, err, ok2, v
end

function S.nested(target)
	local ok, a, b = pcall(function()
		local ok1, e1 = pcall(function()
			tern.sleep(1)
			local v = tern.call(target, "add", 20, 22)
			error("after " .. v)
		end)
		tern.sleep(1)
		return ok1, e1
	end)
	return ok, a, b
end

function S.xpcall_trace(target)
	local ok, tb = xpcall(function()
		tern.call(target, "add", 1, 1)
		local t = nil
		return t.field -- error here, after a yield
	end, debug.traceback)
	return ok, tb
end

function S.xpcall_args()
	return xpcall(function(a, b) tern.sleep(1) return a + b end, debug.traceback, 3, 4)
end

function S.generator(target)
	local gen = coroutine.wrap(function()
		for i = 1, 3 do
			coroutine.yield(tern.call(target, "add", i, 100))
		end
	end)
	local out = {}
	for v in gen do
		out[#out + 1] = v
	end
	return out
end

function S.resume_values()
	local co = coroutine.create(function(a)
		local b = coroutine.yield(a * 2)
		tern.sleep(1)
		local c = coroutine.yield(b * 2)
		return c * 2
	end)
	local r = {}
	r[1] = { coroutine.resume(co, 1) }
	r[2] = { coroutine.resume(co, 2) }
	r[3] = { coroutine.resume(co, 3) }
	r[4] = { coroutine.resume(co) }
	return r
end

function S.in_metamethod(target)
	local t = setmetatable({}, { __index = function(_, k) return tern.call(target, "add", 1, 1) end })
	local ok, err = pcall(function() return t.x end)
	return ok, err
end

function S.in_sort(target)
	local ok, err = pcall(table.sort, { 3, 1, 2 }, function(a, b)
		tern.call(target, "add", 1, 1)
		return a < b
	end)
	return ok, err
end

function S.yield_outside()
	coroutine.yield(1)
end

function S.many_pcalls(target)
	local n = 0
	for i = 1, 300 do
		local ok = pcall(tern.call, target, "boom")
		if not ok then
			n = n + 1
		end
	end
	return n
end

return S
