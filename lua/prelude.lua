-- The Lua half of a tern service VM. Go runs this chunk once per VM with
-- (raw, DONE, USER): raw holds the Go primitives (api.go, coapi.go; one
-- table shared by every VM, so only read here), DONE marks a pooled
-- coroutine's "finished" yield, USER marks a script's own yield. It builds
-- the `tern` module, the yield-safe pcall/xpcall and the pass-through
-- coroutine library, and returns (tern, boot, loop).
--
-- Errors raised here (by error(msg, 1), or by a Go primitive called from
-- here) say "=prelude:N:"; the error hooks in coro.go move that position to
-- the script line that called.
local raw, DONE, USER = ...

local co_resume, co_status = raw.co_resume, raw.co_status
local pass = raw.pass -- yield a suspension on up towards the scheduler
local newco, xresume = raw.newco, raw.xresume
local error = error

-- The body of every pooled coroutine (coro.go): run f, yield DONE with its
-- results, get the next function, forever. Go starts it with a function
-- that does nothing, so the first yield says "ready".
local co_yield = raw.co_yield
local function loop(f, ...)
	return loop(co_yield(DONE, f(...)))
end

local function check(ok, ...)
	if ok then
		return ...
	end
	error((...), 1)
end

---------------------------------------------------------------- pcall/xpcall
-- gopher-lua's pcall cannot be yielded across (its issue #306), yet
-- pcall(tern.call, ...) is everyday service code. So the protected function
-- runs in a pooled coroutine: its yields pass up to the scheduler (or to the
-- script coroutine that yields), the answers pass back down, and an error
-- ends the coroutine, not the task. Inside, coroutine.running() is still
-- the caller's coroutine (coapi.go).
local pool = {}
local POOL_MAX = 32 -- a burst of pcalls must not pin its coroutines forever

local function putco(co)
	local n = #pool
	if n < POOL_MAX then
		pool[n + 1] = co
	end -- else dropped: only Lua references a pcall coroutine
end

local function getco()
	local n = #pool
	if n == 0 then
		return newco()
	end
	local co = pool[n]
	pool[n] = nil
	return co
end

local function pcall_k(co, ok, tag, ...)
	if not ok then
		return false, tag -- raised: co is dead
	end
	if tag == DONE then
		putco(co)
		return true, ...
	end
	return pcall_k(co, co_resume(co, pass(tag, ...)))
end

function pcall(f, ...)
	local co = getco()
	return pcall_k(co, co_resume(co, f, ...))
end

-- xpcall's handler runs where the error was raised, with the stack still
-- there (so debug.traceback works): xresume tells Go the handler while co
-- runs, Go calls it from co's error hook, and what it returns comes out
-- here.
local function xpcall_k(co, h, ok, tag, ...)
	if not ok then
		return false, tag
	end
	if tag == DONE then
		putco(co)
		return true, ...
	end
	return xpcall_k(co, h, xresume(co, h, pass(tag, ...)))
end

function xpcall(f, h, ...)
	local co = getco()
	return xpcall_k(co, h, xresume(co, h, f, ...))
end

------------------------------------------------------------------ coroutine
-- A script's own coroutines: their yields carry USER and stop at the
-- script's resume; the runtime's suspensions (tern.call inside a generator)
-- pass through to the scheduler, as skynet.coroutine does.
local create, uresume = raw.ucreate, raw.uresume
local co = {
	create = create,
	status = raw.ustatus,
	running = raw.urunning,
}

local uyield = raw.uyield
function co.yield(...)
	return uyield(USER, ...)
end

local function resume_k(c, ok, tag, ...)
	if not ok then
		return false, tag
	end
	if co_status(c) == "dead" then
		return true, tag, ...
	end
	if tag == USER then
		return true, ...
	end
	return resume_k(c, co_resume(c, pass(tag, ...)))
end

function co.resume(c, ...)
	return resume_k(c, uresume(c, ...))
end

local function wrap_k(c, ok, tag, ...)
	if not ok then
		error(tag, 0) -- already positioned where it was raised
	end
	if co_status(c) == "dead" then
		return tag, ...
	end
	if tag == USER then
		return ...
	end
	return wrap_k(c, co_resume(c, pass(tag, ...)))
end

function co.wrap(f)
	local c = create(f)
	return function(...)
		return wrap_k(c, uresume(c, ...))
	end
end

coroutine = co

----------------------------------------------------------------------- tern
local call, calltimeout, newservice = raw.call, raw.calltimeout, raw.newservice
local response, respond = raw.response, raw.respond
local sethandlers, getstart = raw.sethandlers, raw.getstart

local tern = setmetatable({
	call = function(addr, cmd, ...)
		return check(call(addr, cmd, ...))
	end,
	calltimeout = function(ms, addr, cmd, ...)
		return check(calltimeout(ms, addr, cmd, ...))
	end,
	newservice = function(script, ...)
		return check(newservice(script, ...))
	end,
	response = function()
		local from, session = response()
		return function(ok, ...)
			return respond(from, session, ok, ...)
		end
	end,
}, raw.ternmeta) -- send, sleep, log...: Go functions shared by every VM

-- The name service's commands.
local names = raw.names
function tern.register(name, opts)
	return tern.call(names(), "register", name, opts)
end
function tern.query(name, ms)
	if ms then
		return tern.calltimeout(ms, names(), "query", name, ms)
	end
	return tern.call(names(), "query", name)
end
function tern.uniqueservice(name, ...)
	return tern.call(names(), "unique", name, ...)
end
function tern.declare(name, script, ...)
	return tern.call(names(), "declare", name, script, ...)
end
function tern.list()
	return tern.call(names(), "list")
end

-- Reload: one service, or every service running a script, one at a time
-- (never all paused together), this one excepted.
local reload = raw.reload
local function runs(path, script)
	local n = #script
	return path == script or #path > n and path:sub(-n - 1) == "/" .. script
end
function tern.reload(x)
	if type(x) ~= "table" then
		check(reload(x))
		return true
	end
	local script = x.script
	if type(script) ~= "string" then
		error("tern.reload: a table argument needs script = \"name.lua\"", 2)
	end
	if not script:find("%.lua$") then
		script = script .. ".lua"
	end
	local n, failed, me = 0, {}, tern.self()
	for _, s in ipairs(tern.list()) do
		if s.addr ~= 0 and s.addr ~= me and s.state == "running" and runs(s.script, script) then
			local ok, err = reload(s.addr)
			if ok then
				n = n + 1
			else
				failed[s.addr] = err
			end
		end
	end
	return n, failed
end

print = raw.log

-- boot runs in the service's first task: the script's main chunk, which
-- returns the handler table, then the function given to tern.start.
local function boot(chunk, ...)
	sethandlers(chunk(...))
	local init = getstart()
	if init then
		init(...)
	end
end

return tern, boot, loop
