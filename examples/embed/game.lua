-- game: a Lua service that uses the Go service "scores".
local tern = require "tern"
tern.register("game")

local S = {}

-- play gives a player points, round by round, through the Go scoreboard.
function S.play(player, rounds)
	local total
	for round = 1, rounds do
		total = tern.call("scores", "add", player, round * 10)
	end
	tern.log(player, "now has", total)
	return { player = player, total = total, rounds = rounds }
end

return S
