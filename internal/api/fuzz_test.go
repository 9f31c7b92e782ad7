package api

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/redthread/redthread/internal/model"
)

// FuzzBodies sends arbitrary bodies to the POST routes and arbitrary
// addresses, chains and queries to the GET routes: the server must answer with a
// client error or success, never 500, and always with a JSON body.
func FuzzBodies(f *testing.F) {
	for _, s := range []string{
		`{"items":[{"chain":"eth","address":"` + alice + `","as_of":"2024-06-01","hops":2}]}`,
		`{"chain":"eth","from":["` + hacker + `"],"policy":"haircut","direction":"forward","since":"2024-01-01"}`,
		`{"chain":"eth","from":["` + hacker + `"],"policy":"fifo","direction":"backward","stop_categories":[]}`,
		`{"queries":[{"name":"Kim Chol Sam","dob":"1971"},{"name":""}]}`,
		`{"items":[{"chain":"","address":""}]}`, `[]`, `null`, `{"from":null}`, "\x00", `{"items":[{"hops":-1}]}`,
	} {
		f.Add(s, alice+"?hops=2")
	}
	f.Add(`{"chain":"eth","from":["`+hacker+`"],"policy":"haircut","direction":"forward","deposit_heuristic":true}`, "eth?limit=2&cursor=3.0")
	f.Add(`{"chain":"eth","deposit_heuristic":"yes"}`, "eth?cursor=18446744073709551616.0")
	p := PendingDeposit{Leg: model.Leg{Chain: "eth", Block: 3}, Tx: "0xab", Memo: "=:BTC.BTC:bc1q"}
	p.Amount.SetUint64(50)
	fx := newFixture(&testing.T{}, Options{PendingDeposits: []PendingDeposit{p}})
	h := fx.srv.Handler()
	f.Fuzz(func(t *testing.T, body, tail string) {
		for _, path := range []string{"/api/v1/exposure/batch", "/api/v1/trace", "/api/v1/screen"} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("POST", path, strings.NewReader(body)))
			if w.Code >= 500 || !strings.HasPrefix(w.Body.String(), "{") {
				t.Fatalf("POST %s %q: %d %s", path, body, w.Code, w.Body.String())
			}
		}
		for _, path := range []string{"/api/v1/exposure/eth/", "/api/v1/address/eth/", "/api/v1/bridges/pending/"} {
			if u, err := url.ParseRequestURI(path + tail); err != nil || strings.ContainsAny(tail, " #") || u.Path == "" {
				return // not a valid request target
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", path+tail, nil))
			if w.Code >= 500 {
				t.Fatalf("GET %s%s: %d %s", path, tail, w.Code, w.Body.String())
			}
		}
	})
}
