local n = 0
return {
	inc = function() n = n + 1 end,
	get = function() return n end,
}
