package intel

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// KindInferred is the kind of the datasets made of inferred attributions:
// what redthread concluded from the ledger itself (the exchange
// deposit-address heuristic), not what a list or label set says.
const KindInferred = "inferred"

// InferredPrefix begins the source name of every inferred attribution
// ("heuristic:deposit-address").
const InferredPrefix = "heuristic:"

// IsInferred reports whether a is one of redthread's inferences rather
// than a listed source's claim.
func IsInferred(a *model.Attribution) bool { return strings.HasPrefix(a.Source.Name, InferredPrefix) }

// MaxEvidenceTxs bounds the transactions an Evidence keeps.
const MaxEvidenceTxs = 5

// Evidence is what an inferred attribution rests on.
type Evidence struct {
	// Target is the wallet the address swept into most often (deposit
	// addresses), or the cluster's first wallet (collectors).
	Target string `json:"target,omitempty"`
	// Sweeps counts the address's sweeps into the exchange (deposit
	// addresses), or the deposit addresses that sweep into the cluster
	// (collectors).
	Sweeps  int `json:"sweeps"`
	Senders int `json:"senders,omitempty"` // distinct addresses that paid the deposit address
	// Txs are the transactions of the first sweeps (at most MaxEvidenceTxs).
	Txs        []string  `json:"txs,omitempty"`
	FirstSweep time.Time `json:"first_sweep,omitzero"`
	LastSweep  time.Time `json:"last_sweep,omitzero"`
}

// Inference is one inferred attribution with its evidence.
type Inference struct {
	Attribution model.Attribution
	Evidence    Evidence
}

// InferredSet is the result of one inference run over one chain: every
// attribution it made. Saving a set replaces the previous set of the same
// method and chain as a whole.
type InferredSet struct {
	Method string      // e.g. "deposit-address"; the sources are InferredPrefix + a name
	Chain  model.Chain // every attribution is of this chain
	// Computed is when the run finished; Head the newest block of the chain
	// it read and Transfers the number of transfers.
	Computed   time.Time
	Head       uint64
	Transfers  int
	Params     string // the run's options, as text
	Inferences []Inference
}

// InferredInfo describes a stored inferred set without its attributions.
type InferredInfo struct {
	Method       string      `json:"method"`
	Chain        model.Chain `json:"chain"`
	Computed     time.Time   `json:"computed"`
	Head         uint64      `json:"head_block"`
	Transfers    int         `json:"transfers"`
	Params       string      `json:"params,omitempty"`
	Attributions int         `json:"attributions"`
}

// Info describes the set.
func (s *InferredSet) Info() InferredInfo {
	return InferredInfo{Method: s.Method, Chain: s.Chain, Computed: s.Computed, Head: s.Head, Transfers: s.Transfers,
		Params: s.Params, Attributions: len(s.Inferences)}
}

var methodRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// check validates a set before it is stored.
func (s *InferredSet) check() error {
	if err := s.checkHead(); err != nil {
		return err
	}
	for i := range s.Inferences {
		if err := s.checkAttribution(i, &s.Inferences[i].Attribution); err != nil {
			return err
		}
		if err := checkEvidence(s, i, &s.Inferences[i].Evidence); err != nil {
			return err
		}
	}
	return nil
}

// checkHead validates the set's method and chain.
func (s *InferredSet) checkHead() error {
	if !methodRE.MatchString(s.Method) {
		return fmt.Errorf("inferred set: method %q: want lower-case letters, digits and dashes", s.Method)
	}
	if !methodRE.MatchString(string(s.Chain)) {
		return fmt.Errorf("inferred set: chain %q: want lower-case letters, digits and dashes", s.Chain)
	}
	return nil
}

// checkAttribution validates attribution i of the set.
func (s *InferredSet) checkAttribution(i int, a *model.Attribution) error {
	if a.Chain != s.Chain {
		return fmt.Errorf("inferred set %s/%s: attribution %d (%s): chain %q, want %q", s.Chain, s.Method, i, a.Address, a.Chain, s.Chain)
	}
	if !IsInferred(a) {
		return fmt.Errorf("inferred set %s/%s: attribution %d (%s): source %q does not start with %q", s.Chain, s.Method, i, a.Address, a.Source.Name, InferredPrefix)
	}
	// An attribution carries its source, confidence and validity;
	// an inference holds from the first transfer it rests on.
	if a.Confidence < 1 || a.Confidence > 100 {
		return fmt.Errorf("inferred set %s/%s: attribution %d (%s): confidence %d, want 1-100", s.Chain, s.Method, i, a.Address, a.Confidence)
	}
	if a.ValidFrom.IsZero() {
		return fmt.Errorf("inferred set %s/%s: attribution %d (%s): no valid_from (when the evidence begins)", s.Chain, s.Method, i, a.Address)
	}
	if !a.ValidTo.IsZero() && !a.ValidTo.After(a.ValidFrom) {
		return fmt.Errorf("inferred set %s/%s: attribution %d (%s): valid_to %s is not after valid_from %s", s.Chain, s.Method, i, a.Address,
			a.ValidTo.Format(time.RFC3339), a.ValidFrom.Format(time.RFC3339))
	}
	if n, err := NormalizeAddress(a.Chain, a.Address); err != nil || n != a.Address {
		return fmt.Errorf("inferred set %s/%s: attribution %d: address %q is not canonical", s.Chain, s.Method, i, a.Address)
	}
	return nil
}

// checkEvidence validates the evidence of inference i of s.
func checkEvidence(s *InferredSet, i int, ev *Evidence) error {
	if len(ev.Txs) > MaxEvidenceTxs {
		return fmt.Errorf("inferred set %s/%s: attribution %d: %d evidence transactions, at most %d", s.Chain, s.Method, i,
			len(ev.Txs), MaxEvidenceTxs)
	}
	if ev.Sweeps < 0 || ev.Senders < 0 {
		return fmt.Errorf("inferred set %s/%s: attribution %d: evidence sweeps %d, senders %d: want counts of 0 or more", s.Chain, s.Method, i,
			ev.Sweeps, ev.Senders)
	}
	return nil
}

// Dataset turns the set into the dataset the DB indexes (Build); Evidence runs
// parallel to Attributions and stays in memory as long as the DB built from
// it (a store's DB reads evidence from the stored file instead).
func (s *InferredSet) Dataset() *Dataset {
	ds := &Dataset{Kind: KindInferred, Source: model.Source{Name: InferredPrefix + s.Method, Published: s.Computed},
		Attributions: make([]model.Attribution, len(s.Inferences)), Evidence: make([]Evidence, len(s.Inferences))}
	for i, x := range s.Inferences {
		ds.Attributions[i], ds.Evidence[i] = x.Attribution, x.Evidence
	}
	info := s.Info()
	ds.Inferred = &info
	return ds
}

func (s *Store) inferredPath(chain model.Chain, method string) string {
	return filepath.Join(s.dir, "inferred", string(chain), method+".set")
}

// SaveInferred stores set, replacing the set of the same method and chain.
// The file is written aside and renamed into place: a failed save leaves
// the previous set as it was.
func (s *Store) SaveInferred(set *InferredSet) error {
	if err := set.check(); err != nil {
		return err
	}
	b, err := encodeInferred(set)
	if err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return writeFileAtomic(s.inferredPath(set.Chain, set.Method), b)
}

// RemoveInferred deletes the stored set of method and chain; false if
// there was none.
func (s *Store) RemoveInferred(chain model.Chain, method string) (bool, error) {
	if !methodRE.MatchString(method) || !methodRE.MatchString(string(chain)) {
		return false, fmt.Errorf("remove inferred set: bad chain %q or method %q", chain, method)
	}
	unlock, err := s.lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	err = os.Remove(s.inferredPath(chain, method))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove inferred set: %w", err)
	}
	return true, nil
}

// inferredFiles lists the stored set files in order.
func (s *Store) inferredFiles() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, "inferred", "*", "*.set"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

// checkPlace refuses a set file that is not where its chain and method
// say it belongs.
func (s *Store) checkPlace(f string, set *InferredSet) error {
	want := s.inferredPath(set.Chain, set.Method)
	if filepath.Clean(f) != filepath.Clean(want) {
		return fmt.Errorf("inferred set %s holds %s/%s (want it at %s)", f, set.Chain, set.Method, want)
	}
	return nil
}

// InferredSets reads every stored inferred set, by chain and method, with
// all its evidence.
func (s *Store) InferredSets() ([]*InferredSet, error) {
	files, err := s.inferredFiles()
	if err != nil {
		return nil, err
	}
	var out []*InferredSet
	for _, f := range files {
		set, err := s.readInferredFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, set)
	}
	return out, nil
}

// readInferredFile reads the whole set stored in file f and checks that it
// is in its place.
func (s *Store) readInferredFile(f string) (*InferredSet, error) {
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("read inferred set: %w", err)
	}
	set, err := decodeInferred(b)
	if err != nil {
		return nil, fmt.Errorf("inferred set %s: %w", f, err)
	}
	if err := s.checkPlace(f, set); err != nil {
		return nil, err
	}
	return set, nil
}

// inferredDatasets opens every stored inferred set as a dataset for build
// that holds neither its attributions nor its evidence: build reads the
// attributions from the file one by one, and the DB keeps the file open
// and reads an address's evidence from it when asked. The file stays readable after
// a later save renames a new set over it, so a DB's evidence always
// matches its attributions.
func (s *Store) inferredDatasets() ([]*Dataset, error) {
	files, err := s.inferredFiles()
	if err != nil {
		return nil, err
	}
	var out []*Dataset
	fail := func(err error) ([]*Dataset, error) {
		closeInferred(out)
		return nil, err
	}
	for _, p := range files {
		st, err := s.openStoredSet(p)
		if err != nil {
			return fail(err)
		}
		out = append(out, st.dataset())
	}
	return out, nil
}

// openStoredSet opens the set file p for reading (openInferred) and checks
// that it is in its place; the file stays open in the result.
func (s *Store) openStoredSet(p string) (*storedSet, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read inferred set: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read inferred set: %w", err)
	}
	st, err := openInferred(f, fi.Size(), p)
	if err == nil {
		err = s.checkPlace(p, st.set)
	} else {
		err = fmt.Errorf("inferred set %s: %w", p, err)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	st.ev.size, st.ev.mod = fi.Size(), fi.ModTime()
	return st, nil
}

// InferredInfos describes every stored inferred set from its file's header,
// without decoding its attributions.
func (s *Store) InferredInfos() ([]InferredInfo, error) {
	files, err := s.inferredFiles()
	if err != nil {
		return nil, err
	}
	out := make([]InferredInfo, 0, len(files))
	for _, p := range files {
		st, err := s.openStoredSet(p)
		if err != nil {
			return nil, err
		}
		st.r.(io.Closer).Close()
		info := st.set.Info()
		info.Attributions = st.n
		out = append(out, info)
	}
	return out, nil
}

// closeInferred closes the files of datasets from inferredDatasets (a DB
// built from them keeps them open; the files close when it is collected).
func closeInferred(ds []*Dataset) {
	for _, d := range ds {
		if f, ok := d.evidence.(*evidenceFile); ok {
			if c, ok := f.r.(io.Closer); ok {
				c.Close()
			}
		}
	}
}

// ListedOnly is an attributor over a DB's listed claims: inferred
// attributions are left out.
type ListedOnly struct{ DB *DB }

// Lookup implements the attributor interfaces with DB.LookupListed.
func (l ListedOnly) Lookup(c model.Chain, addr string, asOf time.Time) []model.Attribution {
	return l.DB.LookupListed(c, addr, asOf)
}

// Attributor is what the trace, exposure and api packages look
// attributions up in (*DB and compositions of it).
type Attributor interface {
	Lookup(chain model.Chain, addr string, asOf time.Time) []model.Attribution
}

// WithoutInferred returns an attributor answering a's lookups with the
// inferred attributions (IsInferred) left out: ListedOnly for a *DB, a
// filter of a's answers otherwise.
func WithoutInferred(a Attributor) Attributor {
	if db, ok := a.(*DB); ok {
		return ListedOnly{db}
	}
	return listedFilter{a}
}

type listedFilter struct{ a Attributor }

func (l listedFilter) Lookup(c model.Chain, addr string, asOf time.Time) []model.Attribution {
	got := l.a.Lookup(c, addr, asOf)
	keep := got[:0:0]
	for i := range got {
		if !IsInferred(&got[i]) {
			keep = append(keep, got[i])
		}
	}
	return keep
}
