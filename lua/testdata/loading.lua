-- loading: require cycles, and load, loadstring, loadfile and dofile
-- compiled like scripts and confined to the script path (lua/load_test.go).
local tern = require "tern"
local S = {}

function S.cycle()
	local ok, err = pcall(require, "require_cycle_a")
	local ok2, err2 = pcall(require, "require_cycle_a") -- not cached as loaded
	return ok, err, ok2, err2
end

-- The same loop as load_iter.lua's, as a string.
local src = [[
local tern, target = require "tern", ...
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
]]

-- Iterators that block, in code from each loader: each returns {11, 12, 13}.
function S.loaded_iterators(target)
	local r = {}
	r[1] = assert(loadstring(src, "=src"))(target)
	local pieces, i = { src:sub(1, 40), src:sub(41) }, 0
	r[2] = assert(load(function()
		i = i + 1
		return pieces[i]
	end))(target)
	r[3] = assert(loadfile("load_iter.lua"))()(target)
	r[4] = dofile("load_iter.lua")(target)
	return r
end

-- What loadfile and dofile refuse: files outside the script path, missing
-- files; and a syntax error from loadstring.
function S.confined(outside)
	local r = {}
	r[1] = { loadfile("../lua_test.go") }
	r[2] = { loadfile(outside) }
	r[3] = { loadfile("nosuch.lua") }
	r[4] = { pcall(dofile, "../lua_test.go") }
	r[5] = { debug.getinfo(1, "l").currentline, pcall(function() dofile("nosuch.lua") end) }
	r[6] = { loadstring("x = = 1", "=bad") }
	r[7] = type(loadfile("lib/util.lua")) -- below the script's directory
	return r
end

return S
