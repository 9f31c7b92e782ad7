package api

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// TestBrowserSignIn: with a token, a browser is sent to /login, a wrong token
// is refused, the right one sets an HttpOnly SameSite=Strict cookie that then
// authorizes the UI and the API, and no cookie is accepted in its place.
func TestBrowserSignIn(t *testing.T) {
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the UI") })
	f := newFixture(t, Options{Token: "s3cret", UI: ui})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path, accept string) *http.Response {
		req, _ := http.NewRequest("GET", f.http.URL+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get("/", "text/html"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("page load without a token: %d to %q, want a redirect to /login", r.StatusCode, r.Header.Get("Location"))
	}
	if r := get("/", "application/json"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API client without a token: %d, want 401", r.StatusCode)
	}
	if r := get("/login", "text/html"); r.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d", r.StatusCode)
	}
	resp, err := c.PostForm(f.http.URL+"/login", url.Values{"token": {"wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp, err = c.PostForm(f.http.URL+"/login", url.Values{"token": {"s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("right token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	ck := resp.Cookies()[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v is not HttpOnly and SameSite=Strict", ck)
	}
	if r := get("/", "text/html"); r.StatusCode != http.StatusOK {
		t.Fatalf("UI with the cookie: %d", r.StatusCode)
	}
	if r := get("/api/v1/exposure/eth/"+alice, "application/json"); r.StatusCode != http.StatusOK {
		t.Fatalf("API with the cookie: %d", r.StatusCode)
	}
	status, body := f.do(t, "GET", "/api/v1/exposure/eth/"+alice, "", "Cookie", tokenCookie+"=forged")
	wantError(t, status, body, 401, "missing or wrong access token")
	if !strings.Contains(string(body), "token") {
		t.Fatal("401 does not say what is missing")
	}
}
