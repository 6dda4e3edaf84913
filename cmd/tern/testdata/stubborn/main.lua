-- a named bootstrap that takes long to shut down: a second signal cuts it short
local tern = require "tern"
tern.register("main")
tern.on_shutdown(function()
	tern.log("cleaning up")
	tern.sleep(60000)
end)
print("up")
