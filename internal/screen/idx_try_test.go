package screen

import (
	"fmt"
	"encoding/json"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
)

func loadAll(t testing.TB) []model.Entity {
	b, _ := os.ReadFile("/work/shared/data/un-consolidated-list/consolidated.xml")
	ds, err := intel.LoadUN(intel.Input{Name: "consolidated.xml", Data: b}, intel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile("/work/shared/data/ofac-sdn-csv/sdn.csv")
	ds2, err := intel.LoadOFACCSV([]intel.Input{{Name: "sdn.csv", Data: b2}}, intel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return append(ds.Entities, ds2.Entities...)
}

func TestIdxTry(t *testing.T) {
	ents := loadAll(t)
	ix := NewIndex(ents, nil, Options{})
	t.Logf("build %v stats %+v skipped %d", ix.BuildDur, ix.Stats(), len(ix.Skipped))
	big := 0
	for k, p := range ix.post {
		if len(p) > 100000 {
			t.Logf("big key %s %d", k, len(p))
			big++
		}
	}
	qs := []Query{{Name: "Kim Jong Un"}, {Name: "Jin Tiesan"}, {Name: "Kim Chol Sam", DOB: "1971-03-11"}, {Name: "Lazarus Group"}, {Name: "Ri Song Hyok"},
		{Name: "Korea Mining Development Trading Corp"}, {Name: "Vladimir Putin"}, {Name: "Semenov Roman"}, {Name: "x", Identifiers: []string{"472310082"}}}
	for _, q := range qs {
		t0 := time.Now()
		ms, err := ix.Screen(q)
		d := time.Since(t0)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%q %v: %d matches", q.Name, d, len(ms))
		for i, m := range ms {
			if i >= 3 {
				break
			}
			b, _ := json.Marshal(m.Explanation)
			t.Logf("   %.3f %s %s [%s] %s", m.Score, m.EntityID, m.Name, m.MatchedName, b)
		}
	}
	// latency over DPRK names
	type ql struct {
		d time.Duration
		q string
	}
	var slow []ql
	var lat []time.Duration
	t0 := time.Now()
	n := 0
	for _, e := range ents {
		for _, nm := range e.Names {
			n++
			if n%10 != 0 {
				continue
			}
			s := time.Now()
			debugCompared = 0
			ix.Screen(Query{Name: nm.Full})
			lat = append(lat, time.Since(s))
			slow = append(slow, ql{time.Since(s), fmt.Sprint(nm.Full, " ", debugCompared)})
		}
	}
	tot := time.Since(t0)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	sort.Slice(slow, func(i, j int) bool { return slow[i].d > slow[j].d })
	for _, x := range slow[:15] {
		t.Logf("slow %v %q", x.d, x.q)
	}
	t.Logf("%d queries p50 %v p99 %v max %v qps %.0f", len(lat), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1], float64(len(lat))/tot.Seconds())
}
