-- seqrecv: counts the numbers sent to it and how many came out of order.
-- Its init yields a while, so that senders keep sending by name while it
-- starts.
local tern = require "tern"
local last, n, disorder = 0, 0, 0
tern.start(function()
	tern.sleep(20)
end)
local S = {}
function S.seq(i)
	if i ~= last + 1 then
		disorder = disorder + 1
	end
	last, n = i, n + 1
end
function S.counts()
	return n, disorder
end
return S
