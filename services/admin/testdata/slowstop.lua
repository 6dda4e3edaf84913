-- slowstop: its on_shutdown takes a while, to hold a shutdown open.
local tern = require "tern"
tern.start(function(ms)
	tern.on_shutdown(function()
		tern.sleep(ms or 500)
	end)
end)
return {}
