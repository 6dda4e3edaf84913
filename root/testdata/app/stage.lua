-- stage: a named service that logs its on_shutdown, and can be slow to
-- answer or to shut down.
local tern = require "tern"
local me
tern.start(function(name, shutdown_ms)
	me = name
	tern.register(name)
	tern.on_shutdown(function()
		tern.log("on_shutdown", me)
		if shutdown_ms then
			tern.sleep(shutdown_ms)
		end
		tern.log("on_shutdown done", me)
	end)
end)
return {
	work = function(ms)
		tern.log("working", me)
		tern.sleep(ms)
		return "done " .. me
	end,
	name = function() return me end,
}
