-- seqsend: sends 1..n to a name, yielding now and then, so that the
-- name gets registered while it sends.
local tern = require "tern"
local S = {}
function S.run(name, n)
	for i = 1, n do
		tern.send(name, "seq", i)
		if i % 50 == 0 then
			tern.sleep(0)
		end
	end
	return n
end
return S
