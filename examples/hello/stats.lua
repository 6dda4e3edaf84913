-- stats: a declared service (see config.lua). Nothing starts it at boot:
-- the first tern.call("stats", ...) does, once.
local tern = require "tern"
local label
local seen = {}

tern.start(function(name)
	label = name
	tern.log("stats started for", label)
end)

return {
	saw = function(who)
		seen[#seen + 1] = who
		return #seen
	end,
	report = function()
		return label .. ": " .. table.concat(seen, ", ")
	end,
}
