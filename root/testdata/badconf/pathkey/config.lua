return { path = { "lib/?.lua", extra = "x" } }
