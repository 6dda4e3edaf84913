-- util: a module found through the configured search path.
local M = {}
function M.double(x) return 2 * x end
return M
