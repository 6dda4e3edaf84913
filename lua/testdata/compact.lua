-- compact: tables made during the start are compacted when it ends
-- (compact.go). They keep their contents, and a next() walk suspended
-- across the compaction goes on where it was; they grow as before.
local tern = require "tern"
local S = {}

local t = {}
for i = 1, 40 do
	t["k" .. i] = i
end
for i = 1, 10 do
	t[i] = -i
end
t[2.5], t[true] = "half", "yes"
for i = 1, 40, 3 do
	t["k" .. i] = nil -- deleted keys stay in gopher-lua's key list
end

-- big data made at the start is left as it is (not walked through)
local big = {}
for i = 1, 5000 do
	big["b" .. i] = { i }
end

local walked, walk_done = {}, false

tern.start(function()
	-- The walk starts in a task of its own once this one sleeps, takes a
	-- step, and sleeps longer: the start ends (and compacts t) in between.
	tern.fork(function()
		local k = next(t)
		while k ~= nil do
			walked[#walked + 1] = k
			tern.sleep(20)
			k = next(t, k)
		end
		walk_done = true
	end)
	tern.sleep(1)
end)

local function keys(tb)
	local n = 0
	for _ in pairs(tb) do
		n = n + 1
	end
	return n
end

-- check() -> the walk's count of distinct keys (once it ended), pairs'
-- count, and the contents as expected
function S.check()
	while not walk_done do
		tern.sleep(20)
	end
	local distinct = {}
	for _, k in ipairs(walked) do
		distinct[k] = true
	end
	local ok = t.k2 == 2 and t.k1 == nil and t[3] == -3 and t[2.5] == "half" and t[true] == "yes"
		and keys(big) == 5000 and big.b4321[1] == 4321
	return keys(distinct), #walked, keys(t), ok
end

-- grow() adds keys of every kind after the compaction
function S.grow()
	for i = 1, 100 do
		t["new" .. i] = i
		t[10 + i] = i
		t[i + 0.5] = i
	end
	t.k2 = nil
	return keys(t), t.new100, t[110], t[99.5], t.k2
end

return S
