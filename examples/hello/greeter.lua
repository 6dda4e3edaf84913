-- greeter: answers `greet` by asking the counter for a ticket.
local tern = require "tern"
local greeting = require "greeting"

local counter

tern.start(function(counter_addr)
	counter = counter_addr
	tern.log("greeter ready, counter at", tern.address(counter))
end)

local S = {}

function S.greet(name)
	local n = tern.call(counter, "next")
	return greeting.format(name, n)
end

return S
