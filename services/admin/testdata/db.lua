-- db: a declared service.
local tern = require "tern"
return { get = function(k) return "db:" .. k end }
