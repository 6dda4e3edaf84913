-- worker: a service the admin tests load, reload, stop and unload.
local tern = require "tern"
local me
tern.start(function(name)
	me = name
	tern.on_shutdown(function()
		tern.log("on_shutdown", me)
	end)
end)
return {
	name = function() return me end,
	echo = function(...) return ... end,
	sleep = function(ms)
		tern.sleep(ms)
		return "woke"
	end,
}
