-- yieldable: where a blocking call can suspend the task and where gopher-lua
-- cannot suspend it, so it raises "cannot block here" (lua/yieldable_test.go).
local tern = require "tern"
local S = {}

-- Each case runs in pcall; the test knows which must fail and how.
local function cases(target)
	local function block()
		return tern.call(target, "add", 1, 1)
	end
	local mt = {
		__index = function() return block() end,
		__tostring = function() return tostring(block()) end,
		__lt = function() return block() == 2 end,
		__add = function() return block() end,
		__concat = function() return block() end,
		__call = function(_, x) return block() + x end,
	}
	local obj = setmetatable({}, mt)
	return {
		{ "index", function() return obj.x end },
		{ "tostring", function() return tostring(obj) end },
		{ "lt", function() return obj < obj end },
		{ "add", function() return obj + 1 end },
		{ "concat", function() return obj .. "x" end },
		{ "sort", function() table.sort({ 3, 1, 2 }, function(a, b) block() return a < b end) end },
		{ "gsub", function() return (string.gsub("ab", "%w", function(c) block() return c end)) end },
		{ "sleep_in_index", function() return setmetatable({}, { __index = function() tern.sleep(1) end }).x end },
		{ "wait_in_index", function() return setmetatable({}, { __index = function() tern.wait({}) end }).x end },
		{ "calltimeout_in_index", function() return setmetatable({}, { __index = function() tern.calltimeout(100, target, "add", 1, 1) end }).x end },
		{ "newservice_in_index", function() return setmetatable({}, { __index = function() tern.newservice("echo") end }).x end },
		{ "pcall_in_index", function() return setmetatable({}, { __index = function() return select(2, pcall(block)) end }).x end },
		{ "coroutine_in_index", function() return setmetatable({}, { __index = function() return coroutine.wrap(block)() end }).x end },
		{ "loaded_index", function() return assert(loadstring("local obj = ... return obj.x"))(obj) end },
		{ "yield_in_index", function() return coroutine.wrap(function() return setmetatable({}, { __index = function() coroutine.yield(1) end }).x end)() end },
		{ "module_top_level", function() return require("yieldable_blocking_module") end },
		-- these can suspend
		{ "call_metamethod", function() return obj(40) end },
		{ "for_iterator", function() local n = 0 for _, v in function(_, i) if not i then return 1, block() end end do n = n + v end return n end },
		{ "loaded_for_iterator", function() return assert(loadstring("local block, n = ..., 0 for _, v in function(_, i) if not i then return 1, block() end end do n = n + v end return n"))(block) end },
		{ "pcall", function() return select(2, pcall(block)) end },
		{ "xpcall", function() return select(2, xpcall(block, debug.traceback)) end },
		{ "coroutine", function() return coroutine.wrap(block)() end },
		{ "pcall_in_coroutine", function() return coroutine.wrap(function() return select(2, pcall(block)) end)() end },
	}
end

function S.run(target)
	local out = {}
	for _, c in ipairs(cases(target)) do
		local ok, v = pcall(c[2])
		out[#out + 1] = { c[1], ok, tostring(v) }
	end
	return out
end

return S
