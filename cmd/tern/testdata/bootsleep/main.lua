-- an anonymous bootstrap whose top level sleeps, with a slow on_shutdown:
-- a first signal runs on_shutdown, a second one exits at once
local tern = require "tern"
tern.on_shutdown(function()
	tern.log("cleaning up")
	tern.sleep(60000)
end)
print("up")
tern.sleep(60000)
