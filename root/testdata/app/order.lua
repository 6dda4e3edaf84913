-- bootstrap for the shutdown order: anonymous itself, with an
-- on_shutdown; two named members registered in the reverse of their start
-- order, and two anonymous ones.
local tern = require "tern"
tern.on_shutdown(function() tern.log("on_shutdown", "main") end)
local n1 = tern.newservice("member", "n1")
local n2 = tern.newservice("member", "n2")
tern.newservice("member", "a1")
tern.newservice("member", "a2")
tern.call(n2, "register")
tern.call(n1, "register")
