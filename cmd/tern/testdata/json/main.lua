local tern = require "tern"
print("in json")
tern.shutdown()
