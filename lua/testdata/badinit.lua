local tern = require "tern"
tern.start(function(why)
	tern.sleep(1)
	error("init refused: " .. tostring(why))
end)
return {}
