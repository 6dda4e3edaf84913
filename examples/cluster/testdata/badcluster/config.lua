-- A mistake in the cluster table: the boot fails, naming the key.
return {
	cluster = { node = "a", lisen = "127.0.0.1:7701" },
}
