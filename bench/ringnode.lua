-- ringnode: one service of bench/ring.lua. link(main, next) sets where
-- tokens go; pass(k) hands a token on with k - 1 hops left, or, at the
-- last hop, tells main "done".
local tern = require "tern"

local S = {}
local main, nxt
local send = tern.send

function S.link(m, n)
	main, nxt = m, n
	return true
end

function S.pass(k)
	if k > 1 then
		send(nxt, "pass", k - 1)
	else
		send(main, "done")
	end
end

return S
