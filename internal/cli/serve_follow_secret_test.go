package cli

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redthread/redthread/internal/api"
	"github.com/redthread/redthread/internal/chain/eth/ethsim"
)

// TestServeFollowKeepsNodeSecrets: a followed node's URL carries a
// password, an API key in its path and one in its query. Neither shows in
// /healthz (which needs no token), /metrics or the log, whether the node is
// unreachable at start, answered and followed, or failing later.
func TestServeFollowKeepsNodeSecrets(t *testing.T) {
	const user, pass, pathKey, queryKey = "alice", "pw-S3CRET", "KEY-P4TH", "KEY-QU3RY"
	alice := ethsim.NewAccount(1)
	bob := ethsim.NewAccount(2).Addr
	c := newSimChain(t, "eth", alice)
	c.pay(bob, 5)
	c.node.Commit()
	fwd := forwardTo(t, c.node.URL)
	var fail atomic.Bool
	node := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass || r.URL.Path != "/v3/"+pathKey || r.URL.Query().Get("apikey") != queryKey {
			http.Error(w, "want the credentials of the URL", http.StatusUnauthorized)
			return
		}
		if fail.Load() {
			http.Error(w, "quota exceeded", http.StatusForbidden)
			return
		}
		r.URL.Path, r.URL.RawQuery = "/", ""
		fwd.ServeHTTP(w, r)
	})
	down := closedPort(t)
	rpc := "http://" + user + ":" + pass + "@" + down + "/v3/" + pathKey + "?apikey=" + queryKey
	s := startServe(t, "--data", t.TempDir(), "--follow", "eth="+rpc, "--tracer", "geth", "--follow-from", "0", "--poll", "50ms")
	leaks := func(when string) {
		t.Helper()
		_, health := s.get("/healthz")
		_, metrics := s.get("/metrics")
		for where, text := range map[string]string{"/healthz": health, "/metrics": metrics, "the log": s.log.String()} {
			for _, secret := range []string{pass, pathKey, queryKey} {
				if strings.Contains(text, secret) {
					t.Errorf("%s: %s shows %q:\n%s", when, where, secret, text)
				}
			}
		}
	}
	s.waitFor("a retry of the unreachable node", func() bool { _, h := s.health(); return h["eth"].Errors >= 2 })
	leaks("node unreachable")
	serveAt(t, down, node)
	s.waitFor("block 1 followed", func() bool { _, h := s.health(); return h["eth"].Indexed == 1 })
	leaks("node followed")
	fail.Store(true)
	s.waitFor("polls failing", func() bool { _, h := s.health(); return h["eth"].State == api.FollowFailing })
	leaks("node failing")
	s.shutdown()
	for _, secret := range []string{pass, pathKey, queryKey} {
		if strings.Contains(s.log.String(), secret) {
			t.Errorf("after shutdown: the log shows %q:\n%s", secret, s.log.String())
		}
	}
	if !strings.Contains(s.log.String(), "http://"+down) {
		t.Errorf("the log never names the node (scheme and host):\n%s", s.log.String())
	}
}

// TestServeFollowFlagErrorsKeepSecrets: a mistyped --follow or
// --follow-rpc value (no CHAIN=, an unknown chain, a scheme that is not
// http) is a usage error that shows the URL's scheme and host but not its
// password, path key or query key.
func TestServeFollowFlagErrorsKeepSecrets(t *testing.T) {
	data := t.TempDir()
	for _, c := range []struct {
		args []string
		want string // in the error
	}{
		{[]string{"--follow", "https://alice:pw-S3CRET@node.example/v3/KEY-P4TH"}, `"https://node.example/…"`},
		{[]string{"--follow", "https://node.example/v3/KEY-P4TH?apikey=KEY-QU3RY"}, `"https://node.example/…": want CHAIN=URL`},
		{[]string{"--follow", "mars=https://alice:pw-S3CRET@node.example/v3/KEY-P4TH"}, `"mars=" "https://node.example/…"`},
		{[]string{"--follow", "eth=ftp://alice:pw-S3CRET@node.example/v3/KEY-P4TH?apikey=KEY-QU3RY"}, `"ftp://node.example/…"`},
		{[]string{"--follow-rpc", "htps://alice:pw-S3CRET@node.example/KEY-P4TH"}, `"htps://node.example/…"`},
		{[]string{"--follow-rpc", "http://alice:pw-S3CRET@node.example:port/KEY-P4TH"}, "not shown"},
		{[]string{"--follow-rpc", "localhost:8545"}, `"localhost:8545"`},
	} {
		code, _, errs := runCLI(t, append([]string{"serve", "--data", data}, c.args...)...)
		if code != ExitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, want a usage error showing %s: %s", c.args, code, c.want, errs)
		}
		for _, secret := range []string{"pw-S3CRET", "KEY-P4TH", "KEY-QU3RY"} {
			if strings.Contains(errs, secret) {
				t.Errorf("%v: the error shows %q: %s", c.args, secret, errs)
			}
		}
	}
}
