-- sender: sends n numbered messages, pausing now and then so that the
-- reloads interleave with them.
local tern = require "tern"
local S = {}
function S.run(to, n)
	for i = 1, n do
		tern.send(to, "add", i)
		if i % 2000 == 0 then
			tern.sleep(1)
		end
	end
	return n
end
return S
