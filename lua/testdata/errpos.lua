-- errpos: errors raised by the tern API point at the script line that
-- called, never into the prelude (lua/errpos_test.go).
local tern = require "tern"
local S = {}

local function line()
	return debug.getinfo(2, "l").currentline
end

-- Each case is { line, message }: the message of what the line raised.
function S.positions(target)
	local r = {}
	local function try(l, f)
		local ok, err = pcall(f)
		r[#r + 1] = { l, ok and "no error" or tostring(err) }
	end
	try(line(), function() tern.call(target, "nosuch") end)
	try(line(), function() tern.call(nil, "x") end)
	try(line(), function() tern.call(target, {}) end)
	try(line(), function() tern.call(1e9, "x") end)
	try(line(), function() tern.call(target, "x", function() end) end)
	try(line(), function() tern.calltimeout(5, target, "hold", 1000) end)
	try(line(), function() tern.calltimeout("soon", target, "hold") end)
	try(line(), function() tern.newservice("nosuchscript") end)
	try(line(), function() tern.send(":zz", "x") end)
	try(line(), function() tern.send(target, "x", function() end) end)
	try(line(), function() tern.register("x") end)
	try(line(), function() tern.call(tern.self(), "raise_tostring") end)
	try(line(), function() tern.call(tern.self(), "raise_table") end)
	r[#r + 1] = { line(), select(2, pcall(function() return tern.call(target, "nosuch") end)) } -- a tail call: pcall's line
	try(line(), function() local ok, err = pcall(tern.call, target, "nosuch") error(err, 0) end)
	try(line(), function() local ok, err = pcall(tern.send, target, "x", print) error(err, 0) end)
	try(line(), function() coroutine.wrap(function() tern.call(target, "nosuch") end)() end)
	try(line(), function() local ok, err = coroutine.resume(coroutine.create(function() tern.call(nil, "x") end)) error(err, 0) end)
	try(line(), function() local ok, err = xpcall(function() tern.call(target, "nosuch") end, function(m) return m end) error(err, 0) end)
	try(line(), function() local ok, err = pcall(tern.wakeup) error(err, 0) end)
	try(line(), function() pcall(nil) error(select(2, pcall(nil)), 0) end)
	return r
end

-- Handlers that raise tables, as a remote error.
local msgmeta = { __tostring = function(e) return "custom: " .. e.what end }
function S.raise_tostring()
	error(setmetatable({ what = "it broke" }, msgmeta))
end

function S.raise_table()
	error({ what = "plain" })
end

-- A table error inside the VM stays a table: pcall returns it as it is.
function S.table_stays()
	local ok, e = pcall(error, setmetatable({ what = "x" }, msgmeta))
	return ok, type(e), tostring(e)
end

return S
