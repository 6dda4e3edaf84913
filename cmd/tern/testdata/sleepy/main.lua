-- the bootstrap's top level sleeps: a signal arrives during boot
local tern = require "tern"
print("up")
tern.sleep(60000)
