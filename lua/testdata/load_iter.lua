-- A chunk for loadfile and dofile (lua/load_test.go): it returns a
-- function whose generic for has an iterator that blocks.
local tern = require "tern"
return function(target)
	local function it(_, i)
		if i < 3 then
			return i + 1, tern.call(target, "add", i + 1, 10)
		end
	end
	local out = {}
	for _, v in it, nil, 0 do
		out[#out + 1] = v
	end
	return out
end
