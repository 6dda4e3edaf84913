-- a bootstrap that shuts the process down on its first line
require("tern").shutdown(5)
