-- patch: injected into a service's VM by the console test. It sees the
-- service's globals and may block.
local tern = require "tern"
tern.sleep(1)
patched = (patched or 0) + 1
return "patched", patched
