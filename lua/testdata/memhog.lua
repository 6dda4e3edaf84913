-- memhog: grows and shrinks what it holds, and reports tern.memory().
local tern = require "tern"

local held = {}
local S = {}

function S.memory()
	return tern.memory()
end

-- grow(n, size): hold n more distinct strings of size bytes.
function S.grow(n, size)
	local base = #held
	for i = 1, n do
		held[base + i] = string.rep("x", size - 12) .. string.format("%12d", base + i)
	end
	return #held
end

function S.free()
	held = {}
	return 0
end

return S
