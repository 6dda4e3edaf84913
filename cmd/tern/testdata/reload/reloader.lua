-- reloader: reloads a service k times, a few milliseconds apart.
local tern = require "tern"
local S = {}
function S.run(to, k)
	for _ = 1, k do
		tern.reload(to)
		tern.sleep(3)
	end
	return k
end
return S
