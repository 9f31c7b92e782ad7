package api

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkExposureHandlerCached is the handler path of a cached exposure,
// without the network: routing, token check, deadline, metrics, cache hit
// and the write.
func BenchmarkExposureHandlerCached(b *testing.B) {
	f := newFixture(&testing.T{}, Options{Token: "t"})
	h := f.srv.Handler()
	req := httptest.NewRequest("GET", "/api/v1/exposure/eth/"+alice, nil)
	req.Header.Set("Authorization", "Bearer t")
	h.ServeHTTP(httptest.NewRecorder(), req)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
