-- badinit: its init raises.
local tern = require "tern"
tern.start(function()
	error("badinit: refusing to start")
end)
return {}
