-- spinner: a handler that never yields, as `while true do end` does, for
-- as long as it is told (so the test's process does not spin forever).
local tern = require "tern"
local S = {}

function S.spin(ms)
	local stop = tern.now() + ms
	while tern.now() < stop do
	end
	return "spun"
end

return S
