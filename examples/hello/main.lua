-- The bootstrap service: the first service `tern run` starts.
local tern = require "tern"

local counter = tern.newservice("counter")
local greeter = tern.newservice("greeter", counter)

for _, name in ipairs({ "Ada", "Grace", "Barbara" }) do
	print(tern.call(greeter, "greet", name))
	tern.call("stats", "saw", name) -- by name: starts "stats" on first use
end
print(tern.call("stats", "report"))

-- errors come back to the caller, with the service's name
local ok, err = pcall(tern.call, greeter, "shout", "nobody")
print("calling a missing command:", ok, err)

tern.shutdown()
