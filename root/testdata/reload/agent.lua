-- agent: a service reloaded by script (root/reload_test.go); its version
-- comes from the file agent_version.lua beside it, which the test edits.
local tern = require "tern"
local version = require "agent_version"
local S = {}
function S.version() return version end
return S
