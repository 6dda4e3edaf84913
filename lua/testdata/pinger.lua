-- pinger: makes n sequential calls to a service and returns how long they
-- took, in ms.
local tern = require "tern"
local S = {}

function S.run(to, n)
	local t0 = tern.now()
	for i = 1, n do
		assert(tern.call(to, "add", i, 1) == i + 1)
	end
	return tern.now() - t0
end

return S
