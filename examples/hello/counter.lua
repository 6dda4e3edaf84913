-- counter: hands out increasing numbers.
local n = 0

return {
	next = function()
		n = n + 1
		return n
	end,
}
