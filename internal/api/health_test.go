package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// followers is a FollowerSet whose statuses the test sets.
type followers struct {
	mu sync.Mutex
	s  []FollowStatus
}

func (f *followers) FollowStatus() FollowStatus { return f.FollowStatuses()[0] }

func (f *followers) FollowStatuses() []FollowStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FollowStatus(nil), f.s...)
}

func (f *followers) set(s ...FollowStatus) {
	f.mu.Lock()
	f.s = s
	f.mu.Unlock()
}

// TestHealthDegraded: /healthz says "degraded" (still 200) when a followed
// chain's node has not been reached, was refused, failed its last poll or
// lags more than its bound, names why in that chain's entry, and says "ok"
// otherwise; /metrics has redthread_follow_up and redthread_follow_degraded.
func TestHealthDegraded(t *testing.T) {
	fs := &followers{}
	fs.set(FollowStatus{Chain: "eth"}, FollowStatus{Chain: "bsc"})
	f := newFixture(t, Options{Follower: fs})
	eth := FollowStatus{Chain: "eth", State: FollowFollowing, NodeHead: 100, Indexed: 98, Lag: 2, Confirmations: 2, MaxLag: 10}
	for _, c := range []struct {
		name   string
		bsc    FollowStatus
		status string
		why    string // in bsc's degraded ("" none)
	}{
		{"both following", FollowStatus{Chain: "bsc", State: FollowFollowing, Lag: 3, MaxLag: 10}, "ok", ""},
		{"lag at the bound", FollowStatus{Chain: "bsc", State: FollowFollowing, Lag: 15, Confirmations: 5, MaxLag: 10}, "ok", ""},
		{"lag past the bound", FollowStatus{Chain: "bsc", State: FollowFollowing, Lag: 16, Confirmations: 5, MaxLag: 10}, "degraded", "16 blocks behind"},
		{"no bound", FollowStatus{Chain: "bsc", State: FollowFollowing, Lag: 1 << 20}, "ok", ""},
		{"recent progress", FollowStatus{Chain: "bsc", State: FollowFollowing, LastProgress: time.Now().Add(-time.Minute), StallAfter: 120}, "ok", ""},
		{"stalled", FollowStatus{Chain: "bsc", State: FollowFollowing, LastProgress: time.Now().Add(-10 * time.Minute), StallAfter: 120}, "degraded", "no progress for 10m"},
		{"no stall bound", FollowStatus{Chain: "bsc", State: FollowFollowing, LastProgress: time.Now().Add(-10 * time.Minute)}, "ok", ""},
		{"connecting", FollowStatus{Chain: "bsc", State: FollowConnecting, Error: "dial tcp: connection refused"}, "degraded", "node not reached yet: dial tcp: connection refused"},
		{"failing", FollowStatus{Chain: "bsc", State: FollowFailing, Error: "HTTP 403"}, "degraded", "last poll failed: HTTP 403"},
		{"error without a state", FollowStatus{Chain: "bsc", Error: "HTTP 502"}, "degraded", "last poll failed: HTTP 502"},
		{"refused", FollowStatus{Chain: "bsc", State: FollowRefused, Error: "chain id 1 is eth"}, "degraded", "refused: chain id 1 is eth"},
	} {
		fs.set(eth, c.bsc)
		code, body := f.do(t, "GET", "/healthz", "")
		var h struct {
			Status  string
			Follow  *FollowStatus
			Follows []FollowStatus
		}
		if err := json.Unmarshal(body, &h); err != nil || code != http.StatusOK {
			t.Fatalf("%s: %d %v %s", c.name, code, err, body)
		}
		if h.Status != c.status || len(h.Follows) != 2 || h.Follow != nil {
			t.Errorf("%s: %s, want status %s and two follows", c.name, body, c.status)
			continue
		}
		if h.Follows[0].Degraded != "" {
			t.Errorf("%s: eth degraded %q", c.name, h.Follows[0].Degraded)
		}
		if got := h.Follows[1].Degraded; (c.why == "") != (got == "") || !strings.Contains(got, c.why) {
			t.Errorf("%s: bsc degraded %q, want %q", c.name, got, c.why)
		}
		_, m := f.do(t, "GET", "/metrics", "")
		up, deg := "1", "0"
		if c.status == "degraded" {
			deg = "1"
		}
		if !c.bsc.Up() {
			up = "0"
		}
		for _, want := range []string{`redthread_follow_up{chain="bsc"} ` + up, `redthread_follow_degraded{chain="bsc"} ` + deg,
			`redthread_follow_up{chain="eth"} 1`, `redthread_follow_degraded{chain="eth"} 0`} {
			if !strings.Contains(string(m), want+"\n") {
				t.Errorf("%s: /metrics lacks %q", c.name, want)
			}
		}
	}
}

// TestHealthStoreCheck: /healthz answers 503 "unavailable" when the ledger
// store cannot be read (here: closed), 200 before.
func TestHealthStoreCheck(t *testing.T) {
	var f *fixture
	f = newFixture(t, Options{StoreCheck: func() error { _, _, err := f.st.Checkpoint("healthz"); return err }})
	code, body := f.do(t, "GET", "/healthz", "")
	if code != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Fatalf("open store: %d %s", code, body)
	}
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}
	code, body = f.do(t, "GET", "/healthz", "")
	var h struct{ Status, Error string }
	if err := json.Unmarshal(body, &h); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("closed store: %d %v %s", code, err, body)
	}
	if d := cmp.Diff("unavailable", h.Status); d != "" || !strings.HasPrefix(h.Error, "ledger store: ") {
		t.Errorf("closed store: %s", body)
	}
}
