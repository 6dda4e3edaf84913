-- flaky: init fails on the first attempt (counted by the Go service
-- "attempts"), succeeds after.
local tern = require "tern"
tern.start(function()
	local n = tern.call("attempts", "next")
	tern.sleep(10)
	if n == 1 then
		error("flaky init, attempt " .. n)
	end
end)
return { ping = function() return "pong" end }
