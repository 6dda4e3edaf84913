-- seq: counts sends numbered 1, 2, 3... and the ones out of order.
local tern = require "tern"

local last, bad = 0, 0
local S = {}

function S.seq(i)
	if i ~= last + 1 then
		bad = bad + 1
	end
	last = i
end

-- seqdone() -> the last number seen, and how many came out of order.
function S.seqdone()
	return last, bad
end

return S
