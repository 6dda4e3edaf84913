local tern = require "tern"
tern.shutdown(7)
