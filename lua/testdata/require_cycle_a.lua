-- one half of a require cycle (lua/load_test.go)
local b = require "require_cycle_b"
return { b = b }
