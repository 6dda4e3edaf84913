-- a named bootstrap whose on_shutdown outlives the deadline
local tern = require "tern"
tern.register("main")
tern.on_shutdown(function()
	tern.log("cleaning up, slowly")
	tern.sleep(5000)
end)
tern.shutdown()
