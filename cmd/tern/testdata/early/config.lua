-- config.lua runs before the runtime exists: a signal now is an early one
print("config loading")
local n = 0
for i = 1, 1e7 do n = n + 1 end
return {}
