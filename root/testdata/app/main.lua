-- bootstrap for the shutdown tests: three named stages, in order.
local tern = require "tern"
for _, name in ipairs({ "first", "second", "third" }) do
	tern.newservice("stage", name)
end
