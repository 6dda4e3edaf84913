-- counter: a service for TestBinaryOperate to find in the listings.
local n = 0
return { inc = function() n = n + 1 end, get = function() return n end }
