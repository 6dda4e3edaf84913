-- decl: a declared service, started by `start decl`.
local tern = require "tern"
return { hello = function() return "hello" end }
