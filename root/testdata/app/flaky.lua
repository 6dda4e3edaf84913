-- flaky: init fails on the first attempt (counted by the Go service
-- "attempts"), succeeds after.
-- The failing attempt holds until the test says every caller waits.
local tern = require "tern"
tern.start(function()
	local n = tern.call("attempts", "next")
	while n == 1 and not tern.call("attempts", "released") do
		tern.sleep(5)
	end
	if n == 1 then
		error("flaky init, attempt " .. n)
	end
end)
return { ping = function() return "pong" end }
