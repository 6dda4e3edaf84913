-- A plain Lua module, found through config.lua's path.
local M = {}

function M.format(name, n)
	return string.format("hello, %s! (greeting #%d)", name, n)
end

return M
