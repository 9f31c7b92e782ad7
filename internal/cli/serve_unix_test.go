//go:build unix

package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGHUP reloads the intel store: an attribution loaded while the server
// runs shows in the next exposure answer (the cache is dropped).
func TestServeReloadsIntelOnSIGHUP(t *testing.T) {
	data, _, addr := exposureWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data", data}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v", err)
	}
	go io.Copy(io.Discard, pr)
	base, _, _ := strings.Cut(strings.TrimPrefix(line, "serving on "), " ")
	url := base + "/api/v1/exposure/eth/" + addr(0xa1) + "?as_of=2024-06-01"
	get := func() string {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if body := get(); strings.Contains(body, "sanctioned") {
		t.Fatalf("sanctioned before any list was loaded: %s", body)
	}
	list := filepath.Join(t.TempDir(), "ofac.csv")
	if err := os.WriteFile(list, []byte("address,name\n"+addr(0xbad)+",TEST SANCTIONED PERSON\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "intel", "load", "ofac-eth-csv", list, "--data", data); code != ExitOK {
		t.Fatalf("intel load: exit %d\n%s\n%s", code, out, errs)
	}
	if body := get(); strings.Contains(body, "sanctioned") {
		t.Fatalf("cached answer changed before SIGHUP: %s", body)
	}
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(get(), `"category":"sanctioned"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no sanctioned exposure after SIGHUP: %s", get())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Screening (rebuilt with the reload) matches a name of the shipped lists.
	resp, err := http.Post(base+"/api/v1/screen", "application/json", strings.NewReader(`{"queries":[{"name":"Kim Jong Un"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"matched_name":"KIM, Jong Un"`) {
		t.Fatalf("screen after reload: %d %s", resp.StatusCode, b)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("serve exit %d", code)
	}
}
