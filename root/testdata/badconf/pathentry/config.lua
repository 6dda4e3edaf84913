return { path = { "lib/?.lua", 3 } }
