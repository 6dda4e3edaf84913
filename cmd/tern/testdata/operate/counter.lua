-- counter: counts numbered messages, checks that they come in order, and
-- carries its count across reloads through on_save and on_restore.
local tern = require "tern"
local count, last, bad = 0, 0, 0
local S = {}
function S.add(i)
	count = count + 1
	if i ~= last + 1 then
		bad = bad + 1
	end
	last = i
end
function S.get()
	return count, last, bad, tern.self()
end
tern.on_save(function()
	return { count = count, last = last, bad = bad }
end)
tern.on_restore(function(st)
	count, last, bad = st.count, st.last, st.bad
end)
return S
