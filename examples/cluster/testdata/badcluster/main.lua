error("never runs: the config is wrong")
