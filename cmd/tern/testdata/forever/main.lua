-- runs until a signal arrives
local tern = require "tern"
print("up")
