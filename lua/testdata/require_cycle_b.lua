-- the other half of a require cycle (lua/load_test.go)
local a = require "require_cycle_a"
return { a = a }
