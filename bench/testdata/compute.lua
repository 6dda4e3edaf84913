-- compute: the Go BenchmarkLuaCompute drives it; pure Lua work in one
-- handler, no messages: what a check at loop back-edges and calls costs.
local S = {}

-- loop(n): n iterations of a while loop and n of a numeric for, with a
-- little arithmetic each (back-edges: JMP and FORLOOP).
function S.loop(n)
	local x, i = 0, 0
	while i < n do
		i = i + 1
		x = x + i % 7
	end
	for j = 1, n do
		x = x - j % 7
	end
	return x
end

local function fib(k)
	if k < 2 then
		return k
	end
	return fib(k - 1) + fib(k - 2)
end

-- calls(n): about n Lua function calls (CALL), in fib(20)s of 21891 calls.
function S.calls(n)
	local s = 0
	for _ = 1, math.max(1, math.floor(n / 21891)) do
		s = s + fib(20)
	end
	return s
end

-- mixed(n): n iterations of table work, string keys and method calls.
local P = {}
P.__index = P
function P:add(v)
	self.sum = self.sum + v
	return self
end

function S.mixed(n)
	local p = setmetatable({ sum = 0 }, P)
	local t = {}
	for i = 1, n do
		t[i % 64 + 1] = i
		p:add(t[(i * 7) % 64 + 1] or 0)
	end
	return p.sum
end

return S
