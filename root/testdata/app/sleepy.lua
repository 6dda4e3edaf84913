-- a bootstrap whose top level is still running when the shutdown comes
local tern = require "tern"
print("booting")
tern.sleep(60000)
print("booted")
