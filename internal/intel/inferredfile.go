package intel

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// A stored inferred set (DATA/intel/inferred/CHAIN/METHOD.set) keeps the
// attributions apart from their evidence, so that a DB indexes the
// attributions and reads an address's evidence from the file only when
// asked (DB.Evidence, DB.Explain). Layout, integers little-endian:
//
//	magic   "RTINFER2" (8 bytes)
//	u64     H, the length of the head
//	u64     N, the number of inferences
//	head    one gob stream: the InferredSet without its Inferences, then
//	        the N attributions, one value each (so that a reader can index
//	        them one by one)
//	index   N+1 u64: offset of evidence record i from the start of the
//	        records (index[0] = 0, non-decreasing; index[N] = their length)
//	records N evidence records (encodeEvidence), in the order of the head
//
// Nothing follows the records.
const inferredMagic = "RTINFER2"

const (
	inferredPreamble = 24
	// maxEvidenceRecord bounds one encoded evidence record (a target, five
	// transaction hashes and two times take about 300 bytes).
	maxEvidenceRecord = 1 << 16
	// maxInferences bounds N (the DB keeps an inference's row in 32 bits).
	maxInferences = 1<<32 - 2
)

// encodeEvidence appends ev's record to b: varint sweeps and senders; the
// target; the number of transactions and each; the first and last sweep
// (time.MarshalBinary). Strings and times are uvarint-length-prefixed.
func encodeEvidence(b []byte, ev *Evidence) ([]byte, error) {
	b = binary.AppendVarint(b, int64(ev.Sweeps))
	b = binary.AppendVarint(b, int64(ev.Senders))
	b = appendBytes(b, ev.Target)
	b = binary.AppendUvarint(b, uint64(len(ev.Txs)))
	for _, tx := range ev.Txs {
		b = appendBytes(b, tx)
	}
	for _, t := range []time.Time{ev.FirstSweep, ev.LastSweep} {
		tb, err := t.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("encode evidence time: %w", err)
		}
		b = appendBytes(b, string(tb))
	}
	return b, nil
}

func appendBytes(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decodeEvidence reads one record (encodeEvidence); the whole of b must be
// the record.
func decodeEvidence(b []byte) (Evidence, error) {
	d := evDecoder{b: b}
	var ev Evidence
	ev.Sweeps = d.int("sweeps")
	ev.Senders = d.int("senders")
	ev.Target = d.str("target")
	n := d.uvarint("number of txs")
	if d.err == nil && n > MaxEvidenceTxs {
		d.fail("txs", fmt.Errorf("%d transactions, at most %d", n, MaxEvidenceTxs))
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		ev.Txs = append(ev.Txs, d.str("tx"))
	}
	ev.FirstSweep = d.time("first_sweep")
	ev.LastSweep = d.time("last_sweep")
	if d.err == nil && len(d.b) != 0 {
		d.fail("record", fmt.Errorf("%d bytes after its end", len(d.b)))
	}
	if d.err != nil {
		return Evidence{}, d.err
	}
	return ev, nil
}

type evDecoder struct {
	b   []byte
	err error
}

func (d *evDecoder) fail(field string, err error) {
	if d.err == nil {
		d.err = fmt.Errorf("evidence %s: %w", field, err)
	}
}

func (d *evDecoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(field, errors.New("bad or truncated varint"))
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *evDecoder) int(field string) int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 || int64(int(v)) != v {
		d.fail(field, errors.New("bad or truncated varint"))
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *evDecoder) bytes(field string) []byte {
	n := d.uvarint(field + " length")
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(field, fmt.Errorf("length %d past the end of the record", n))
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *evDecoder) str(field string) string { return string(d.bytes(field)) }

func (d *evDecoder) time(field string) time.Time {
	b := d.bytes(field)
	if d.err != nil {
		return time.Time{}
	}
	var t time.Time
	if err := t.UnmarshalBinary(b); err != nil {
		d.fail(field, err)
	}
	return t
}

// encodeInferred writes set in the stored layout.
func encodeInferred(set *InferredSet) ([]byte, error) {
	if len(set.Inferences) > maxInferences {
		return nil, fmt.Errorf("inferred set: %d inferences, at most %d", len(set.Inferences), maxInferences)
	}
	head := *set
	head.Inferences = nil
	var hb bytes.Buffer
	enc := gob.NewEncoder(&hb)
	if err := enc.Encode(&head); err != nil {
		return nil, fmt.Errorf("encode inferred set: %w", err)
	}
	for i := range set.Inferences {
		if err := enc.Encode(&set.Inferences[i].Attribution); err != nil {
			return nil, fmt.Errorf("encode inferred set: attribution %d: %w", i, err)
		}
	}
	n := len(set.Inferences)
	index := make([]byte, 0, 8*(n+1))
	var recs []byte
	for i := range set.Inferences {
		index = binary.LittleEndian.AppendUint64(index, uint64(len(recs)))
		start := len(recs)
		var err error
		if recs, err = encodeEvidence(recs, &set.Inferences[i].Evidence); err != nil {
			return nil, err
		}
		if len(recs)-start > maxEvidenceRecord {
			return nil, fmt.Errorf("inferred set %s/%s: attribution %d (%s): evidence of %d bytes, at most %d", set.Chain, set.Method, i,
				set.Inferences[i].Attribution.Address, len(recs)-start, maxEvidenceRecord)
		}
	}
	index = binary.LittleEndian.AppendUint64(index, uint64(len(recs)))
	out := make([]byte, 0, inferredPreamble+hb.Len()+len(index)+len(recs))
	out = append(out, inferredMagic...)
	out = binary.LittleEndian.AppendUint64(out, uint64(hb.Len()))
	out = binary.LittleEndian.AppendUint64(out, uint64(n))
	out = append(out, hb.Bytes()...)
	out = append(out, index...)
	return append(out, recs...), nil
}

// evidenceTable holds the evidence of one inferred dataset, row by row.
type evidenceTable interface {
	evidence(row uint32) (Evidence, error)
}

// evidenceMem is evidence kept in memory (a set built without a store).
type evidenceMem []Evidence

func (m evidenceMem) evidence(row uint32) (Evidence, error) {
	if int(row) >= len(m) {
		return Evidence{}, fmt.Errorf("evidence row %d of %d", row, len(m))
	}
	return m[row], nil
}

// evidenceFile reads the evidence records of a stored set on demand.
type evidenceFile struct {
	r       io.ReaderAt // *os.File in a store: kept open, so a later save (a rename) cannot change what it reads
	name    string
	index   int64 // offset of the index
	records int64 // offset of the records
	n       uint32
	// size and mod are the file's when it was opened: a file written over
	// in place (not renamed over) no longer matches the index the DB
	// holds, and its evidence is refused, not handed out as the old set's.
	size int64
	mod  time.Time
}

func (f *evidenceFile) evidence(row uint32) (Evidence, error) {
	if row >= f.n {
		return Evidence{}, fmt.Errorf("%s: evidence row %d of %d", f.name, row, f.n)
	}
	var ix [16]byte
	if _, err := f.r.ReadAt(ix[:], f.index+8*int64(row)); err != nil {
		return Evidence{}, fmt.Errorf("%s: read evidence index: %w", f.name, err)
	}
	start, end := binary.LittleEndian.Uint64(ix[:8]), binary.LittleEndian.Uint64(ix[8:])
	if end < start || end-start > maxEvidenceRecord {
		return Evidence{}, fmt.Errorf("%s: evidence %d: bad index entry %d-%d", f.name, row, start, end)
	}
	b := make([]byte, end-start)
	if _, err := f.r.ReadAt(b, f.records+int64(start)); err != nil {
		return Evidence{}, fmt.Errorf("%s: read evidence %d: %w", f.name, row, err)
	}
	if err := f.unchanged(); err != nil {
		return Evidence{}, err
	}
	ev, err := decodeEvidence(b)
	if err != nil {
		return Evidence{}, fmt.Errorf("%s: evidence %d: %w", f.name, row, err)
	}
	return ev, nil
}

// unchanged checks, after a read, that the open file (a store's) still has
// the size and modification time it had when it was opened.
func (f *evidenceFile) unchanged() error {
	st, ok := f.r.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		return nil
	}
	fi, err := st.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", f.name, err)
	}
	if fi.Size() != f.size || !fi.ModTime().Equal(f.mod) {
		return fmt.Errorf("%s changed since it was opened (written over in place: size %d, modified %s; was %d, %s): reload the intel",
			f.name, fi.Size(), fi.ModTime().UTC().Format(time.RFC3339Nano), f.size, f.mod.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// storedSet is a stored set opened for reading: its head without the
// inferences, their number, and its evidence.
type storedSet struct {
	set  *InferredSet // Inferences nil
	n    int
	r    io.ReaderAt
	hlen int64
	ev   *evidenceFile
}

// each decodes the attributions of the head one by one, checks each as
// SaveInferred does and calls fn with it; an attribution is not kept.
func (s *storedSet) each(fn func(i int, a *model.Attribution) error) error {
	dec := gob.NewDecoder(io.NewSectionReader(s.r, inferredPreamble, s.hlen))
	var head InferredSet
	if err := dec.Decode(&head); err != nil {
		return fmt.Errorf("decode head: %w", err)
	}
	for i := 0; i < s.n; i++ {
		var a model.Attribution
		if err := dec.Decode(&a); err != nil {
			return fmt.Errorf("decode attribution %d of %d: %w", i, s.n, err)
		}
		if err := s.set.checkAttribution(i, &a); err != nil {
			return err
		}
		if err := fn(i, &a); err != nil {
			return err
		}
	}
	var extra model.Attribution
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("head: more than the %d attributions the header gives", s.n)
	}
	return nil
}

// openInferred reads the header and the head's first value of a stored set
// of size bytes, and checks the index and every evidence record, keeping
// none in memory. The attributions are then read (and checked) by each,
// the evidence through the evidence table.
func openInferred(r io.ReaderAt, size int64, name string) (*storedSet, error) {
	var pre [inferredPreamble]byte
	if _, err := r.ReadAt(pre[:], 0); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if string(pre[:8]) != inferredMagic {
		return nil, fmt.Errorf("header: magic %q, want %q", pre[:8], inferredMagic)
	}
	hlen, n := binary.LittleEndian.Uint64(pre[8:16]), binary.LittleEndian.Uint64(pre[16:24])
	rest := uint64(size) - inferredPreamble
	if size < inferredPreamble || hlen > rest || n > maxInferences || (n+1)*8 > rest-hlen {
		return nil, fmt.Errorf("header: head of %d bytes and %d inferences do not fit a file of %d bytes", hlen, n, size)
	}
	var set InferredSet
	if err := gob.NewDecoder(io.NewSectionReader(r, inferredPreamble, int64(hlen))).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode head: %w", err)
	}
	if len(set.Inferences) != 0 {
		return nil, fmt.Errorf("head: the set carries %d inferences (they follow it one by one)", len(set.Inferences))
	}
	if err := set.checkHead(); err != nil {
		return nil, err
	}
	f := &evidenceFile{r: r, name: name, index: inferredPreamble + int64(hlen), n: uint32(n)}
	f.records = f.index + 8*int64(n+1)
	// Check the index and the records in one pass.
	ix := bufio.NewReaderSize(io.NewSectionReader(r, f.index, 8*int64(n+1)), 1<<16)
	rd := bufio.NewReaderSize(io.NewSectionReader(r, f.records, size-f.records), 1<<16)
	var prev uint64
	var buf []byte
	for i := uint64(0); i <= n; i++ {
		var e [8]byte
		if _, err := io.ReadFull(ix, e[:]); err != nil {
			return nil, fmt.Errorf("read evidence index: %w", err)
		}
		off := binary.LittleEndian.Uint64(e[:])
		switch {
		case i == 0 && off != 0:
			return nil, fmt.Errorf("evidence index: first offset %d, want 0", off)
		case i == 0:
			continue
		case off < prev || off-prev > maxEvidenceRecord:
			return nil, fmt.Errorf("evidence index: record %d spans %d-%d", i-1, prev, off)
		}
		if k := int(off - prev); cap(buf) < k {
			buf = make([]byte, k)
		} else {
			buf = buf[:k]
		}
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, fmt.Errorf("read evidence %d: %w", i-1, err)
		}
		ev, err := decodeEvidence(buf)
		if err != nil {
			return nil, fmt.Errorf("evidence %d: %w", i-1, err)
		}
		if err := checkEvidence(&set, int(i-1), &ev); err != nil {
			return nil, err
		}
		prev = off
	}
	if extra := size - f.records - int64(prev); extra != 0 {
		return nil, fmt.Errorf("evidence records: %d bytes after their end", extra)
	}
	return &storedSet{set: &set, n: int(n), r: r, hlen: int64(hlen), ev: f}, nil
}

// dataset is the stored set as a dataset for Build: the attributions
// streamed from the head, the evidence read on demand.
func (s *storedSet) dataset() *Dataset {
	info := s.set.Info()
	info.Attributions = s.n
	return &Dataset{Kind: KindInferred, Source: model.Source{Name: InferredPrefix + s.set.Method, Published: s.set.Computed},
		Inferred: &info, streamN: s.n, evidence: s.ev, stream: func(fn func(int, *model.Attribution) error) error {
			if err := s.each(fn); err != nil {
				return fmt.Errorf("inferred set %s: %w", s.ev.name, err)
			}
			return nil
		}}
}

func isZeroEvidence(ev *Evidence) bool {
	return ev.Target == "" && ev.Sweeps == 0 && ev.Senders == 0 && len(ev.Txs) == 0 && ev.FirstSweep.IsZero() && ev.LastSweep.IsZero()
}

// decodeInferred reads a whole stored set, evidence included, and checks it
// as SaveInferred does before storing.
func decodeInferred(b []byte) (*InferredSet, error) {
	st, err := openInferred(bytes.NewReader(b), int64(len(b)), "inferred set")
	if err != nil {
		return nil, err
	}
	set := st.set
	set.Inferences = make([]Inference, 0, min(st.n, len(b)/8))
	err = st.each(func(i int, a *model.Attribution) error {
		ev, err := st.ev.evidence(uint32(i))
		set.Inferences = append(set.Inferences, Inference{Attribution: *a, Evidence: ev})
		return err
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}
