error("the bootstrap refuses to start")
