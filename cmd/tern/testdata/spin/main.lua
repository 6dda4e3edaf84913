-- the bootstrap's top level never ends and never yields
print("up")
while true do end
