-- The data node of the tests: cluster_test.go copies this directory and
-- puts free ports in place of TEST_ADDR and DATA_ADDR. The test node
-- runs in the test process (root.Config.Cluster, the same members).
return {
	cluster = {
		name = "clustertest",
		node = "data",
		listen = "DATA_ADDR",
		members = {
			{ node = "test", address = "TEST_ADDR" },
			{ node = "data", address = "DATA_ADDR" },
		},
		call_timeout = 2000,
	},
	services = {
		db = { script = "db.lua" },
		seq = { script = "seq.lua" },
	},
}
