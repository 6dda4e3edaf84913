-- A server operated from outside: the test lists it through the admin
-- API and the console, then shuts it down through the admin API.
local tern = require "tern"
tern.newservice("counter")
