-- libs: the standard libraries, loaded lazily, behave as usual.
local tern = require "tern"
local S = {}

function S.use()
	local r = {}
	r[1] = rawget(_G, "math") == nil -- not loaded yet
	r[2] = math.floor(2.7)
	r[3] = rawget(_G, "math") ~= nil
	r[4] = require("table") == table
	r[5] = ("abc"):upper()
	r[6] = string.rep("x", 3)
	r[7] = getfenv(string.format) == _G
	r[8] = os.time() > 0
	r[9] = type(debug.traceback)
	string.shout = function(s) return s:upper() .. "!" end
	r[10] = ("hey"):shout()
	return r
end

function S.strict()
	setmetatable(_G, { __newindex = function(_, k) error("global " .. k, 2) end })
	local r = { table.concat({ "a", "b" }, ","), math.max(1, 2), os.clock() >= 0 }
	local ok, err = pcall(function() undeclared = 1 end)
	r[#r + 1] = ok
	r[#r + 1] = err
	return r
end

-- what VMs share cannot be reached or changed from a script
function S.protected()
	local ok = pcall(setmetatable, tern, {})
	return getmetatable(tern), ok, debug.setupvalue == nil, debug.getmetatable == nil,
		debug.setfenv == nil, type(tern.send), type(tern.call)
end

-- a function's environment: the script's own may change, the runtime's
-- (shared by every VM) may not
function S.fenv()
	local function f()
		return x
	end
	setfenv(f, { x = 5 })
	local r = { f() }
	for _, fn in ipairs({ pcall, xpcall, tern.call, tern.register, coroutine.wrap, dofile }) do
		local ok, err = pcall(setfenv, fn, {})
		r[#r + 1] = not ok and err:find("runtime function", 1, true) ~= nil
	end
	local g = coroutine.wrap(function() return 1 end) -- made by a runtime function: the VM's own
	r[#r + 1] = setfenv(g, {}) == g
	tern.extra, tern.register = 1, nil -- the tern table is the VM's own too
	return r
end

-- the upvalues of the functions every VM shares hold no table a script
-- could change (debug.getupvalue reaches them): the count of tables found
function S.shared_upvalues()
	local fns = {}
	local function add(t)
		for _, v in pairs(t) do
			if type(v) == "function" then
				fns[#fns + 1] = v
			end
		end
	end
	for _, lib in ipairs({ _G, coroutine, string, table, math, os, debug }) do
		add(lib)
	end
	for _, name in ipairs({ "call", "calltimeout", "newservice", "response", "register", "query",
		"uniqueservice", "declare", "list", "reload", "send", "timeout", "fork", "log" }) do
		fns[#fns + 1] = tern[name]
	end
	local seen, tables = {}, 0
	local function visit(f)
		if seen[f] then
			return
		end
		seen[f] = true
		for i = 1, 100 do
			local name, v = debug.getupvalue(f, i)
			if name == nil then
				break
			end
			if type(v) == "table" then
				tables = tables + 1
			elseif type(v) == "function" then
				visit(v)
			end
		end
	end
	for _, f in ipairs(fns) do
		visit(f)
	end
	return tables, #fns > 60
end

-- other VMs must not see this VM's changes to shared libraries
function S.isolated()
	return string.shout == nil, math.pi, tern.extra == nil, type(tern.register)
end

return S
