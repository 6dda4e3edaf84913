package testutil

import (
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// StartEtcd runs a one-member etcd named name on loopback, with a
// temporary data directory, for the test's life, and returns its client
// endpoint (host:port). The test skips, saying so, when there is no etcd
// binary (Debian's etcd-server; .ci/run installs it).
func StartEtcd(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/etcd"); serr != nil {
			t.Skip("no etcd binary (apt-get install etcd-server): the etcd provider is not tested")
		}
		bin = "/usr/bin/etcd"
	}
	addrs := FreeAddrs(t, 2)
	client, peer := "http://"+addrs[0], "http://"+addrs[1]
	cmd := exec.Command(bin, "--name", name, "--data-dir", t.TempDir(),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", name+"="+peer, "--log-level", "error")
	out := &Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("etcd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("etcd:\n%s", out.String())
		}
	})
	Eventually(t, 20*time.Second, "etcd listens", func() bool {
		c, err := net.DialTimeout("tcp", addrs[0], time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addrs[0]
}
