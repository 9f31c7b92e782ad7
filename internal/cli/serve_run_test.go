package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/redthread/redthread/internal/api"
)

// runningServe is a `redthread serve` running in the test process.
type runningServe struct {
	t    *testing.T
	base string
	log  *syncBuffer
	stop context.CancelFunc
	done chan int
}

// startServe runs serve with args until it prints its address.
func startServe(t *testing.T, args ...string) *runningServe {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	s := &runningServe{t: t, log: &syncBuffer{}, stop: stop, done: make(chan int, 1)}
	pr, pw := io.Pipe()
	go func() {
		s.done <- Main(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--no-screen"}, args...), pw, s.log)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		stop()
		t.Fatalf("serve printed nothing: %v\n%s", err, s.log.String())
	}
	go io.Copy(io.Discard, pr)
	s.base, _, _ = strings.Cut(strings.TrimPrefix(line, "serving on "), " ")
	t.Cleanup(func() { s.stop() })
	return s
}

// shutdown stops the server and checks that it exits 0.
func (s *runningServe) shutdown() {
	s.t.Helper()
	s.stop()
	select {
	case c := <-s.done:
		if c != ExitOK {
			s.t.Fatalf("serve exit %d:\n%s", c, s.log.String())
		}
	case <-time.After(20 * time.Second):
		s.t.Fatal("serve did not stop")
	}
}

func (s *runningServe) get(path string) (int, string) {
	s.t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// health returns /healthz's status and its entries by chain.
func (s *runningServe) health() (string, map[string]api.FollowStatus) {
	s.t.Helper()
	code, body := s.get("/healthz")
	var h struct {
		Status  string
		Follows []api.FollowStatus
	}
	if err := json.Unmarshal([]byte(body), &h); code != 200 || err != nil {
		s.t.Fatalf("/healthz: %d %s (%v)", code, body, err)
	}
	out := map[string]api.FollowStatus{}
	for _, f := range h.Follows {
		out[f.Chain] = f
	}
	return h.Status, out
}

// received is addr's received native total on chain ("" if none).
func (s *runningServe) received(chain string, addr common.Address) string {
	s.t.Helper()
	code, body := s.get("/api/v1/exposure/" + chain + "/" + addr.Hex() + "?hops=2&as_of=2099-01-01")
	if code == 404 {
		return ""
	}
	var res struct {
		Assets []struct {
			Asset  string
			Source struct{ Total string }
		}
	}
	if err := json.Unmarshal([]byte(body), &res); code != 200 || err != nil {
		s.t.Fatalf("exposure %s %s: %d %v: %s", chain, addr.Hex(), code, err, body)
	}
	for _, a := range res.Assets {
		if a.Asset == "native" {
			return a.Source.Total
		}
	}
	return ""
}

func (s *runningServe) waitFor(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			st, h := s.health()
			s.t.Fatalf("%s: not seen (health %s %+v)\nserver log:\n%s", what, st, h, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's log writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
