-- The Lua half of the tern API, shared by every service VM. Go runs this
-- chunk once per process, on a template state that never runs a service
-- (vm.go), with (raw, DONE, USER): raw holds the Go primitives (api.go,
-- coapi.go), DONE marks a pooled coroutine's "finished" yield, USER marks
-- a script's own yield. It returns a table of functions: the yield-safe
-- pcall/xpcall, the pass-through coroutine library, the tern module's Lua
-- wrappers, and the runtime's boot and loop. Go copies them out; the table
-- itself is never seen by a VM.
--
-- A function here runs in many VMs at once, so it keeps no state of its
-- own: per-VM state lives in Go (the pcall coroutines' pool), and it never
-- reads a global (its environment is the template's): everything it uses
-- is a local captured below, a function or a marker, never a table a
-- script could change.
--
-- Errors raised here (by error(msg, 1), or by a Go primitive called from
-- here) say "=prelude:N:"; the error hooks in coro.go move that position to
-- the script line that called.
local raw, DONE, USER = ...
local error, type, ipairs, loadfile = error, type, ipairs, raw.loadfile

local co_resume, co_status = raw.co_resume, raw.co_status
local pass = raw.pass -- yield a suspension on up towards the scheduler
local getco, putco, xresume = raw.getco, raw.putco, raw.xresume

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
-- the caller's coroutine (coapi.go). getco and putco keep the VM's pool of
-- such coroutines (coapi.go).
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

local function pcall(f, ...)
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

local function xpcall(f, h, ...)
	local co = getco()
	return xpcall_k(co, h, xresume(co, h, f, ...))
end

------------------------------------------------------------------ coroutine
-- A script's own coroutines: their yields carry USER and stop at the
-- script's resume; the runtime's suspensions (tern.call inside a generator)
-- pass through to the scheduler, as skynet.coroutine does.
local create, uresume = raw.ucreate, raw.uresume
local uyield = raw.uyield
local function yield(...)
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

local function resume(c, ...)
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

local function wrap(f)
	local c = create(f)
	return function(...)
		return wrap_k(c, uresume(c, ...))
	end
end

----------------------------------------------------------------------- tern
local call, calltimeout, newservice = raw.call, raw.calltimeout, raw.newservice
local response, respond = raw.response, raw.respond

local tern = {
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
}

-- The name service's commands.
local names, tcall, tcalltimeout = raw.names, tern.call, tern.calltimeout
function tern.register(name, opts)
	return tcall(names(), "register", name, opts)
end
function tern.query(name, ms)
	if ms then
		return tcalltimeout(ms, names(), "query", name, ms)
	end
	return tcall(names(), "query", name)
end
function tern.uniqueservice(name, ...)
	return tcall(names(), "unique", name, ...)
end
function tern.declare(name, script, ...)
	return tcall(names(), "declare", name, script, ...)
end
local function list()
	return tcall(names(), "list")
end
tern.list = list

-- Reload: one service, or every service running a script, one at a time
-- (never all paused together), this one excepted.
local reload, self = raw.reload, raw.self
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
	local n, failed, me = 0, {}, self()
	for _, s in ipairs(list()) do
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

-- boot runs in the service's first task: the script's main chunk, which
-- returns the handler table, then the function given to tern.start.
local sethandlers, getstart = raw.sethandlers, raw.getstart
local function boot(chunk, ...)
	sethandlers(chunk(...))
	local init = getstart()
	if init then
		init(...)
	end
end

-- The body of a script's coroutine (coapi.go's ucreate): started at once,
-- it waits for the first resume, then becomes f.
local function ubody(f)
	return f(co_yield())
end

-- dofile(name) is loadfile's chunk run as a plain Lua call, so its top
-- level may block.
local function dofile(name)
	local f, err = loadfile(name)
	if not f then
		error(err, 1)
	end
	return f()
end

return {
	boot = boot,
	loop = loop,
	ubody = ubody,
	globals = { pcall = pcall, xpcall = xpcall, dofile = dofile, print = raw.log },
	coroutine = {
		create = create,
		status = raw.ustatus,
		running = raw.urunning,
		yield = yield,
		resume = resume,
		wrap = wrap,
	},
	tern = tern,
}
