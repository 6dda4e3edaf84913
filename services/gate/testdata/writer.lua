-- writer: writes numbered frames to one connection of a gate.
local tern = require "tern"

local S = {}

function S.run(gate, id, tag, n)
	for i = 1, n do
		tern.send(gate, "write", id, tag .. " " .. i)
		if i % 50 == 0 then
			tern.sleep(0) -- let the other writer in
		end
	end
end

return S
