-- runaway: scripts that recurse, nest pcalls or unpack without bound.
-- Each must end in an error naming the limit, never a crash or a stall.
local tern = require "tern"
local S = {}

local function depth(n)
	if n == 0 then
		return 0
	end
	return 1 + depth(n - 1) -- not a tail call
end

-- recurse(n): n Lua frames deep.
function S.recurse(n)
	return depth(n)
end

-- wide(n): a recursion whose frames hold 30 locals each: the value
-- stack, not the call depth, runs out first. Caught.
function S.wide(n)
	local function f(k)
		local a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = k, k, k, k, k, k, k, k, k, k
		local b1, b2, b3, b4, b5, b6, b7, b8, b9, b10 = k, k, k, k, k, k, k, k, k, k
		local c1, c2, c3, c4, c5, c6, c7, c8, c9, c10 = k, k, k, k, k, k, k, k, k, k
		if k == 0 then
			return 0
		end
		return 1 + f(k - 1) + a1 + b10 + c5 - 3 * k
	end
	local ok, err = pcall(f, n)
	return ok, tostring(err)
end

-- recurse_pcall(n): the same, caught: the error message.
function S.recurse_pcall(n)
	local ok, err = pcall(depth, n)
	return ok, tostring(err)
end

-- unpack(n): how many values unpack(t, 1, n) gives.
function S.unpack(n)
	return select("#", unpack({}, 1, n))
end

-- unpack_sum(n): unpack of a real table of n values.
function S.unpack_sum(n)
	local t = {}
	for i = 1, n do
		t[i] = i
	end
	local function sum(...)
		local s = 0
		for i = 1, select("#", ...) do
			s = s + (select(i, ...))
		end
		return s
	end
	local a, b = unpack(t, 1, n)
	return a, b, select("#", unpack(t, 1, n))
end

-- pcalls(n): pcall nested in pcall, n deep; each level passes the
-- error of the level below up. Returns the depth reached and what the
-- bottom gave.
function S.pcalls(n)
	local d = 0
	local function f()
		d = d + 1
		if d >= n then
			return "bottom"
		end
		local ok, res = pcall(f)
		if not ok then
			error(res, 0)
		end
		return res
	end
	local ok, res = pcall(f)
	return ok, tostring(res), d
end

-- pcall_forever: pcall(f) in f, errors ignored: the old crash.
function S.pcall_forever()
	local d = 0
	local function f()
		d = d + 1
		pcall(f)
	end
	f()
	return d
end

-- xpcalls: the same with xpcall and a handler.
function S.xpcall_forever()
	local d, last = 0, nil
	local function f()
		d = d + 1
		local ok, err = xpcall(f, function(e)
			return e
		end)
		if not ok and not last then
			last = err
		end
	end
	f()
	return d, tostring(last)
end

-- resumes: coroutine.resume nested without bound.
function S.resume_forever()
	local d, last = 0, nil
	local function f()
		d = d + 1
		local ok, err = coroutine.resume(coroutine.create(f))
		if not ok and not last then
			last = err
		end
	end
	f()
	return d, tostring(last)
end

-- index_forever: an __index function that indexes again.
function S.index_forever()
	local t = setmetatable({}, {})
	getmetatable(t).__index = function(t, k)
		return t[k]
	end
	local ok, err = pcall(function()
		return t.x
	end)
	return ok, tostring(err)
end

-- tostring_forever: __tostring that calls tostring on itself.
function S.tostring_forever()
	local t = setmetatable({}, {})
	getmetatable(t).__tostring = function(x)
		return tostring(x)
	end
	local ok, err = pcall(tostring, t)
	return ok, tostring(err)
end

-- sort_forever: a comparator that sorts again.
function S.sort_forever()
	local cmp
	cmp = function(a, b)
		table.sort({ 2, 1 }, cmp)
		return a < b
	end
	local ok, err = pcall(table.sort, { 2, 1 }, cmp)
	return ok, tostring(err)
end

-- mixed: pcall inside __index recursion.
function S.mixed_forever()
	local t = setmetatable({}, {})
	getmetatable(t).__index = function(t, k)
		local ok, v = pcall(function()
			return t[k]
		end)
		if not ok then
			error(v, 0)
		end
		return v
	end
	local ok, err = pcall(function()
		return t.x
	end)
	return ok, tostring(err)
end

-- traceback(n): debug.traceback n frames deep.
function S.traceback(n)
	local function f(k)
		if k == 0 then
			return debug.traceback("here")
		end
		local s = f(k - 1)
		return s
	end
	return f(n)
end

-- rep(s, n): string.rep's length, caught; and the method form.
function S.rep(s, n)
	local ok, r = pcall(string.rep, s, n)
	local ok2, r2 = pcall(function()
		return s:rep(n)
	end)
	return ok and #r or r, ok2 and #r2 or r2
end

-- sleep(ms): a handler that sleeps (the task cap).
function S.sleep(ms)
	tern.sleep(ms)
	return "slept"
end

-- flood(addr, n, ms): n sends of sleep(ms) to addr.
function S.flood(addr, n, ms)
	for _ = 1, n do
		tern.send(addr, "sleep", ms)
	end
end

-- hold(flag): a task that waits until the service at flag says released.
function S.hold(flag)
	while not tern.call(flag, "released") do
		tern.sleep(10)
	end
	return "held"
end

-- hold_flood(addr, n): n sends of hold(self) to addr; release() ends them.
local released = false
function S.hold_flood(addr, n)
	released = false
	for _ = 1, n do
		tern.send(addr, "hold", tern.self())
	end
end

function S.released()
	return released
end

function S.release()
	released = true
end

-- call_sleep(addr, ms): a call of sleep(ms) to addr, caught.
function S.call_sleep(addr, ms)
	local ok, err = pcall(tern.call, addr, "sleep", ms)
	return ok, tostring(err)
end

function S.ping()
	return "pong"
end

return S
