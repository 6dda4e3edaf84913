-- pcall_identity: pcall and xpcall are invisible pass-throughs: one
-- coroutine identity inside and out, coroutine.yield through them, no
-- leak (lua/pcall_test.go, lua/pcall_leak_test.go).
local tern = require "tern"
local S = {}

-- coroutine.running() and status inside pcall and xpcall: in a task, and
-- in a script's own coroutine.
function S.identity()
	local r = {}
	local me = coroutine.running()
	pcall(function()
		r[#r + 1] = coroutine.running() == me
		r[#r + 1] = coroutine.status(me)
		pcall(function()
			r[#r + 1] = coroutine.running() == me
		end)
	end)
	xpcall(function()
		r[#r + 1] = coroutine.running() == me
	end, debug.traceback)
	local c
	c = coroutine.create(function()
		pcall(function()
			r[#r + 1] = coroutine.running() == c
			r[#r + 1] = coroutine.status(c)
			r[#r + 1] = coroutine.status(me)
		end)
	end)
	assert(coroutine.resume(c))
	r[#r + 1] = coroutine.status(c)
	return r
end

-- A script may not resume a task's coroutine, nor a running one.
function S.resume_refused()
	local r = {}
	local me = coroutine.running()
	pcall(function()
		r[#r + 1] = { coroutine.resume(me) }
	end)
	local c
	c = coroutine.create(function()
		pcall(function()
			r[#r + 1] = { coroutine.resume(c) }
		end)
	end)
	coroutine.resume(c)
	return r
end

-- tern.wait's default token is the task, inside pcall too: a wakeup with
-- the task's coroutine.running() finds it.
function S.wait_in_pcall()
	local me = coroutine.running()
	local woke
	tern.fork(function()
		woke = tern.wakeup(me)
	end)
	local ok = pcall(tern.wait)
	local ok2 = xpcall(function()
		tern.fork(function()
			tern.wakeup(me)
		end)
		tern.wait()
	end, debug.traceback)
	return ok, woke, ok2
end

-- ... and in a script's coroutine, the token is that coroutine.
function S.wait_in_coroutine()
	local gen = coroutine.wrap(function()
		local c = coroutine.running()
		tern.fork(function()
			tern.wakeup(c)
		end)
		pcall(tern.wait)
		coroutine.yield("woken")
	end)
	return gen()
end

-- coroutine.yield in pcall outside a script coroutine raises, and pcall
-- catches it; the task goes on.
local function line()
	return debug.getinfo(2, "l").currentline
end

function S.yield_outside()
	local r = {}
	r[1] = { line(), pcall(coroutine.yield, 1) }
	r[2] = { line(), xpcall(coroutine.yield, function(m) return "handled: " .. m end, 2) }
	local l3
	r[3] = { pcall(function()
		l3 = line() local v = coroutine.yield(3)
		return v
	end) }
	table.insert(r[3], 1, l3)
	r[4] = { line(), pcall(function()
		return coroutine.yield(4) -- a tail call: the position is pcall's line
	end) }
	return r
end

-- Inside a script coroutine, a yield in pcall yields that coroutine.
function S.yield_in_coroutine(target)
	local c = coroutine.create(function(a)
		local ok, b = pcall(coroutine.yield, a + 1)
		local ok2, d = pcall(function()
			local x = tern.call(target, "add", b, 0) -- blocks in between
			return coroutine.yield(x * 10)
		end)
		return ok, ok2, d
	end)
	local r = {}
	r[1] = { coroutine.resume(c, 1) }
	r[2] = { coroutine.resume(c, 5) }
	r[3] = { coroutine.resume(c, 7) }
	r[4] = coroutine.status(c)
	return r
end

-- A generator whose yields are inside pcall, with blocking calls.
function S.generator(target)
	local out = {}
	for v in coroutine.wrap(function()
		for i = 1, 3 do
			pcall(function()
				coroutine.yield(tern.call(target, "add", i, 100))
			end)
		end
	end) do
		out[#out + 1] = v
	end
	return out
end

-- For the leak test: one request that yields in pcall outside a
-- coroutine, one that abandons a generator suspended inside pcall.
function S.yield_request()
	local ok, err = pcall(coroutine.yield)
	return ok == false and err:find("attempt to yield from outside a coroutine", 1, true) ~= nil
end

function S.abandon()
	local gen = coroutine.wrap(function()
		pcall(coroutine.yield, 1)
		pcall(coroutine.yield, 2)
	end)
	return gen() == 1
end

-- drive makes n calls of cmd to target and counts the true answers.
function S.drive(target, cmd, n)
	local good = 0
	for _ = 1, n do
		local ok, v = pcall(tern.call, target, cmd)
		if ok and v == true then
			good = good + 1
		end
	end
	return good
end

function S.echo_add(a, b)
	return a + b
end

-- For the benchmarks: n pcalls of a call to target, or of a local function.
function S.pcall_calls(target, n)
	local good = 0
	for i = 1, n do
		local ok, v = pcall(tern.call, target, "echo_add", i, 1)
		if ok and v == i + 1 then
			good = good + 1
		end
	end
	return good
end

local function add(a, b)
	return a + b
end

function S.pcall_local(n)
	local good = 0
	for i = 1, n do
		local ok, v = pcall(add, i, 1)
		if ok and v == i + 1 then
			good = good + 1
		end
	end
	return good
end

function S.wrap_local(n)
	local good = 0
	for i = 1, n do
		if coroutine.wrap(add)(i, 1) == i + 1 then
			good = good + 1
		end
	end
	return good
end

function S.xpcall_local(n)
	local good = 0
	for i = 1, n do
		local ok, v = xpcall(add, debug.traceback, i, 1)
		if ok and v == i + 1 then
			good = good + 1
		end
	end
	return good
end

return S
