-- A module whose top level blocks: require runs it from Go, which cannot
-- suspend (lua/yieldable_test.go).
local tern = require "tern"
tern.sleep(1)
return true
