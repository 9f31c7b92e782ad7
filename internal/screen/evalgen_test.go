package screen

import (
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
)

// go test ./internal/screen -run TestGenerateEval -generate-eval
// rebuilds testdata/eval/pairs.tsv from the shared UN and OFAC files, the
// hand-made pairs and the hand-labelled list of aliases that are other names.
var generateEval = flag.Bool("generate-eval", false, "rebuild testdata/eval/pairs.tsv from /work/shared/data")

const sharedData = "/work/shared/data"

type evalPerson struct {
	id    string
	names []model.Name
	dob   string // exact date, "" if none
}

func loadDPRKPeople(t *testing.T) []evalPerson {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedData, "un-consolidated-list/consolidated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	un, err := intel.LoadUN(intel.Input{Name: "consolidated.xml", Data: b}, intel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(filepath.Join(sharedData, "ofac-sdn-csv/sdn.csv"))
	if err != nil {
		t.Fatal(err)
	}
	of, err := intel.LoadOFACCSV([]intel.Input{{Name: "sdn.csv", Data: b}}, intel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []evalPerson
	for _, e := range append(un.Entities, of.Entities...) {
		if e.Type != model.EntityPerson {
			continue
		}
		dprk := false
		for _, p := range e.Programs {
			if strings.Contains(p, "DPRK") || strings.Contains(p, "NKSPEA") {
				dprk = true
			}
		}
		if !dprk {
			continue
		}
		p := evalPerson{id: e.ID, names: e.Names}
		for _, d := range e.DOBs {
			if d.Kind == "exact" && !d.Date.IsZero() && d.Date.Month() != 0 && !(d.Date.Month() == 1 && d.Date.Day() == 1) {
				p.dob = d.Date.Format("2006-01-02")
				break
			}
		}
		out = append(out, p)
	}
	return out
}

// simpleTokens is a deliberately naive tokenizer (lower case, split on
// anything not a letter, apostrophes dropped), independent of the matcher,
// used to pick hard negatives.
func simpleTokens(s string) []string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("'", "", "’", "", "`", "").Replace(s)
	return strings.FieldsFunc(s, func(r rune) bool { return r < 'a' || r > 'z' })
}

func editDist(a, b string) int {
	d := make([]int, len(b)+1)
	for j := range d {
		d[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := d[0]
		d[0] = i
		for j := 1; j <= len(b); j++ {
			cur := d[j]
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			d[j] = min(d[j]+1, d[j-1]+1, prev+c)
			prev = cur
		}
	}
	return d[len(b)]
}

// closeTokens counts tokens of a that have a token of b within edit distance
// 1 (each token of b used once).
func closeTokens(a, b []string) (exact, close int) {
	used := make([]bool, len(b))
	for _, x := range a {
		for j, y := range b {
			if !used[j] && x == y {
				used[j] = true
				exact++
				goto next
			}
		}
		for j, y := range b {
			if !used[j] && editDist(x, y) <= 1 {
				used[j] = true
				close++
				break
			}
		}
	next:
	}
	return
}

func splitOf(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	if h.Sum32()%2 == 0 {
		return "dev"
	}
	return "test"
}

func TestGenerateEval(t *testing.T) {
	if !*generateEval {
		t.Skip("run with -generate-eval")
	}
	people := loadDPRKPeople(t)
	other := map[string]bool{}
	otherRows, err := readTSV("testdata/eval/other_names.tsv", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range otherRows {
		other[r[0]+"\t"+r[1]] = true
	}
	// Clusters: UN and OFAC records of one person share an exact date of birth.
	parent := make([]int, len(people))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	// (The family names must also be within two edits: KIM KWANG-IL and
	// KANG, Kyong Il share a date of birth and are kept apart.)
	byDOB := map[string][]int{}
	for i, p := range people {
		if p.dob == "" {
			continue
		}
		for _, j := range byDOB[p.dob] {
			ta, tb := simpleTokens(p.names[0].Full), simpleTokens(people[j].names[0].Full)
			if len(ta) > 0 && len(tb) > 0 && editDist(ta[0], tb[0]) <= 2 {
				parent[find(i)] = find(j)
			}
		}
		byDOB[p.dob] = append(byDOB[p.dob], i)
	}
	clusterKey := func(i int) string { return people[find(i)].id }

	type row struct{ split, label, cat, a, b, src string }
	var rows []row
	seen := map[string]bool{}
	add := func(r row) {
		k := r.a + "\t" + r.b
		if seen[k] || seen[r.b+"\t"+r.a] {
			return
		}
		seen[k] = true
		rows = append(rows, r)
	}
	for i, p := range people {
		sp := splitOf(clusterKey(i))
		for _, al := range p.names[1:] {
			cat := "alias"
			if other[p.id+"\t"+al.Full] {
				cat = "other-name"
			}
			add(row{sp, "1", cat, p.names[0].Full, al.Full, p.id})
		}
		for j := i + 1; j < len(people); j++ {
			if find(i) == find(j) {
				q := people[j]
				if strings.HasPrefix(p.id, "un:") != strings.HasPrefix(q.id, "un:") {
					add(row{sp, "1", "cross-list", p.names[0].Full, q.names[0].Full, p.id + " " + q.id + " dob " + p.dob})
				}
			}
		}
	}
	// Negatives between different people, one per pair of spellings.
	negSeen := map[string]bool{}
	for i := range people {
		for j := i + 1; j < len(people); j++ {
			if find(i) == find(j) {
				continue
			}
			a, b := people[i].names[0].Full, people[j].names[0].Full
			ta, tb := simpleTokens(a), simpleTokens(b)
			if len(ta) < 2 || len(tb) < 2 {
				continue
			}
			ka, kb := strings.Join(ta, " "), strings.Join(tb, " ")
			if ka > kb {
				ka, kb = kb, ka
			}
			if negSeen[ka+"|"+kb] {
				continue
			}
			negSeen[ka+"|"+kb] = true
			ex, cl := closeTokens(ta, tb)
			key := people[i].id + " " + people[j].id
			bothDOB := people[i].dob != "" && people[j].dob != ""
			switch {
			case ex == len(ta) && ex == len(tb):
				add(row{splitOf(key), "0", "same-name", a, b, key})
			case ex+cl == len(ta) && len(ta) == len(tb) && !bothDOB:
				// As close as two spellings of one name, and nothing
				// tells the people apart: unknown, left out.
				add(row{splitOf(key), "0", "uncertain", a, b, key})
			case ex+cl >= 2 && ta[0] == tb[0]:
				add(row{splitOf(key), "0", "hard-negative", a, b, key + " dobs " + people[i].dob + " " + people[j].dob})
			}
		}
	}
	hand, err := readTSV("testdata/eval/handmade.tsv", 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range hand {
		add(row{splitOf(fmt.Sprint("hand", i, r[2])), r[0], r[1], r[2], r[3], "handmade"})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].cat < rows[j].cat })
	var sb strings.Builder
	sb.WriteString("# split\tlabel\tcategory\ta\tb\tsource (generated by TestGenerateEval; see SOURCE.md)\n")
	for _, r := range rows {
		fmt.Fprintf(&sb, "%s\t%s\t%s\t%s\t%s\t%s\n", r.split, r.label, r.cat, strings.TrimSpace(r.a), strings.TrimSpace(r.b), r.src)
	}
	if err := os.WriteFile("testdata/eval/pairs.tsv", []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.split+" "+r.cat]++
	}
	t.Log(counts)
}
