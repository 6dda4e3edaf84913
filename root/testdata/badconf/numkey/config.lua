return { "lib/?.lua" }
