package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/model"
)

func TestTransfersSample(t *testing.T) {
	m := newMemSink()
	res := run(t, m, Options{Format: "transfers", Files: []string{td("transfers", "sample.csv")}})
	if res.Transfers != 5 || res.Rows != 5 {
		t.Errorf("result %+v, want 5 rows and 5 transfers", res)
	}
	got := m.transfers()
	want := []model.Transfer{
		{Chain: "eth", Block: 483920, Time: 1446561880, Position: model.MakePosition(0, 1<<31),
			TxHash: "0x04cbcb236043d8fb7839e07bbc7f5eed692fb2ca55d897f1101eac3e3ad4fab8",
			From:   "0x1b63142628311395ceafeea5667e7c9026c862ca", To: "0xac4df82fe37ea2187bc8c011a23d743b4f39019a",
			Asset: "0xf4eced2f682ce333f96f2d8966c613ded8fc95dd", Amount: u256("100000"), Kind: model.KindToken},
		{Chain: "eth", Block: 483920, Time: 1446561880, Position: model.MakePosition(2, 0),
			TxHash: "0x463d53f0ad57677a3b430a007c1c31d15d62c37fab5eee598551697c297c235c",
			From:   "0x9df428a91ff0f3635c8f0ce752933b9788926804", To: "0x9e669f970ec0f49bb735f20799a7e7c4a1c274e2",
			Asset: "native", Amount: u256("11000440000000000"), Kind: model.KindNative},
		{Chain: "eth", Block: 483920, Time: 1446561880, Position: model.MakePosition(3, 0),
			TxHash: "0x05287a561f218418892ab053adfb3d919860988b19458c570c5c30f51c146f02",
			From:   "0x2a65aca4d5fc5b5c859090a6c34d164135398226", To: "0x743b8aeedc163c0e3a0fe9f3910d146c48e70da8",
			Asset: "native", Amount: u256("1530219620000000000"), Kind: model.KindNative},
		{Chain: "eth", Block: 17173049, Time: 1683029999, Position: 0,
			TxHash: "0xeb107a40ba73a50c79a9f2026e902d758d1c5e5e211f7a7db1b294f88f118dd0",
			From:   "0x6b75d8af000000e20b7a7ddf000ba900b4009a80", To: "0x7054b0f980a7eb5b3a6b3446f3c947d80162775c",
			Asset: "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", Kind: model.KindToken,
			Amount: u256("115792089237316195423570985008687907853269984665640564039457584007913129639935")},
		{Chain: "eth", Block: 17173049, Time: 1683029999, Position: model.MakePosition(1, 0),
			TxHash: "0xdf39c8315cb99faf95f48374aa075873c29e5c121158dbe20d7cf5dcdfec9738",
			From:   "0xb3c839dbde6b96d37c56ee4f9dad3390d49310aa", To: "0xfd6c2d2499b1331101726a8ac68ccc9da3fab54f",
			Asset: "0xdac17f958d2ee523a2206206994597c13d831ec7", Amount: u256("108714272823"), Kind: model.KindToken},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// A second run is a no-op: the checkpoint says the file is complete.
	res = run(t, m, Options{Format: "transfers", Files: []string{td("transfers", "sample.csv")}})
	if res.Skipped != 1 || res.Transfers != 0 {
		t.Errorf("second run: %+v, want the file skipped", res)
	}
}

const hdr = TransfersHeader + "\n"
const okRow = "eth,0x463d53f0ad57677a3b430a007c1c31d15d62c37fab5eee598551697c297c235c,483920,1446561880,0,0x9df428a91ff0f3635c8f0ce752933b9788926804,0x9e669f970ec0f49bb735f20799a7e7c4a1c274e2,native,1\n"

func TestTransfersBadInput(t *testing.T) {
	row := func(field int, v string) string {
		f := strings.Split(strings.TrimSuffix(okRow, "\n"), ",")
		f[field] = v
		return strings.Join(f, ",") + "\n"
	}
	for _, c := range []struct{ name, data, want string }{
		{"bad header", "chain,tx,block\n" + okRow, `x.csv:1: header: want "chain,tx_hash`},
		{"renamed column", strings.Replace(hdr, "amount", "value", 1) + okRow, `x.csv:1: header: column 9 is "value", want "amount"`},
		{"empty", "", "x.csv:1: empty file: no header"},
		{"short row", hdr + okRow + "eth,0x01,5\n", "x.csv:3: 3 fields, want 9"},
		{"truncated last row", hdr + okRow + okRow[:60], "x.csv:3: 2 fields, want 9"},
		{"bad chain", hdr + row(0, "ETH!"), `x.csv:2: field chain "ETH!": want a chain id`},
		{"bad hash", hdr + row(1, "0x12zz"), `x.csv:2: field tx_hash "0x12zz": not a 32-byte hex hash`},
		{"bad block", hdr + row(2, "-1"), `x.csv:2: field block_number "-1": not a non-negative decimal integer`},
		{"huge block", hdr + row(2, "99999999999999999999"), `x.csv:2: field block_number "99999999999999999999": does not fit 64 bits`},
		{"bad time", hdr + row(3, "2023-05-02"), `x.csv:2: field block_timestamp "2023-05-02"`},
		{"bad position", hdr + row(4, "1.5"), `x.csv:2: field position "1.5"`},
		{"bad from", hdr + row(5, "0x9df428a91ff0f3635c8f0ce752933b978892680"), `x.csv:2: field from_address "0x9df428a91ff0f3635c8f0ce752933b978892680": invalid address: want 0x and 40 hex digits`},
		{"bad to hex", hdr + row(6, "0x9e669f970ec0f49bb735f20799a7e7c4a1c274eg"), `x.csv:2: field to_address`},
		{"bad asset", hdr + row(7, "eth"), `x.csv:2: field asset "eth": want "native" or a token contract address`},
		{"amount over 256 bits", hdr + row(8, "115792089237316195423570985008687907853269984665640564039457584007913129639936"), `x.csv:2: field amount "1157920892373161954235709850086879078532699846656405640394575840…": does not fit 256 bits`},
		{"negative amount", hdr + row(8, "-5"), `field amount "-5": not a non-negative decimal integer`},
		{"decimal amount", hdr + row(8, "1.5"), `field amount "1.5": not a non-negative decimal integer`},
		{"long value truncated", hdr + row(8, strings.Repeat("9", 200)), `field amount "` + strings.Repeat("9", 64) + `…"`},
		{"unterminated quote", hdr + `"eth,0x01` + "\n", "x.csv:2: unterminated quoted field"},
		{"bare quote", hdr + `eth,0x4"63,1,2,3,4,5,6,7` + "\n", `x.csv:2: malformed CSV: bare " in non-quoted-field`},
		{"text after quote", hdr + `"eth"x,1,2,3,4,5,6,7,8` + "\n", `x.csv:2: malformed CSV: extraneous or missing " in quoted-field`},
		{"time conflict", hdr + okRow + row(4, "1")[:0] + strings.Replace(row(4, "1"), "1446561880", "1446561881", 1), `x.csv:3: field timestamp "1446561881": block 483920 has timestamp 1446561880 on line 2`},
		{"position conflict", hdr + okRow + row(8, "2"), `x.csv:3: field position "0": block 483920 position 0 is also used by line 2`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "x.csv")
			if err := os.WriteFile(p, []byte(c.data), 0o644); err != nil {
				t.Fatal(err)
			}
			m := newMemSink()
			_, err := Run(context.Background(), m, Options{Format: "transfers", Files: []string{p}})
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			msg := strings.ReplaceAll(err.Error(), p, "x.csv")
			if !strings.Contains(msg, c.want) {
				t.Errorf("got  %q\nwant %q", msg, c.want)
			}
			if len(m.ts) != 0 {
				t.Errorf("%d transfers written despite the error", len(m.ts))
			}
		})
	}
	// Identical repeated rows are one transfer.
	dir := t.TempDir()
	p := filepath.Join(dir, "dup.csv")
	os.WriteFile(p, []byte(hdr+okRow+okRow), 0o644)
	m := newMemSink()
	run(t, m, Options{Format: "transfers", Files: []string{p}})
	if len(m.ts) != 1 {
		t.Errorf("got %d transfers from a repeated row, want 1", len(m.ts))
	}
	// --chain must match the rows.
	if _, err := Run(context.Background(), newMemSink(), Options{Format: "transfers", Files: []string{p}, Chain: "bsc"}); err == nil || !strings.Contains(err.Error(), "not on chain bsc") {
		t.Errorf("got %v, want a chain mismatch", err)
	}
}

// genFile writes n synthetic rows and returns the path.
func genFile(t *testing.T, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gen.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := GenerateTransfers(f, GenOptions{Transfers: n, Seed: 7, Addresses: 5000}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// TestTransfersResume stops an import at a failing write, runs it again and
// gets the same store as one uninterrupted run; the checkpoint makes the
// second run skip the committed batches.
func TestTransfersResume(t *testing.T) {
	p := genFile(t, 20000)
	whole := newMemSink()
	run(t, whole, Options{Format: "transfers", Files: []string{p}, BatchTransfers: 1000})

	m := newMemSink()
	m.failAt = 6
	_, err := Run(context.Background(), m, Options{Format: "transfers", Files: []string{p}, BatchTransfers: 1000})
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("got %v, want the injected failure", err)
	}
	committed := len(m.ts)
	if committed == 0 || committed >= 20000 {
		t.Fatalf("%d transfers committed before the failure", committed)
	}
	m.failAt = 0
	m.writes = 0
	res := run(t, m, Options{Format: "transfers", Files: []string{p}, BatchTransfers: 1000})
	if res.Transfers != int64(20000-committed) {
		t.Errorf("resumed run imported %d transfers, want %d (the rest)", res.Transfers, 20000-committed)
	}
	if d := cmp.Diff(whole.transfers(), m.transfers()); d != "" {
		t.Errorf("resumed store differs (-whole +resumed):\n%s", d)
	}
}

// TestTransfersBadRowMidFile: a bad row stops the import after the batches
// before it; fixing the row and running again resumes after them.
func TestTransfersBadRowMidFile(t *testing.T) {
	p := genFile(t, 10000)
	data, _ := os.ReadFile(p)
	lines := bytes.SplitAfter(data, []byte("\n"))
	bad := 8000
	orig := append([]byte(nil), lines[bad]...)
	lines[bad] = bytes.Replace(lines[bad], []byte(",native,"), []byte(",nativ,"), 1)
	if bytes.Equal(orig, lines[bad]) {
		lines[bad] = append([]byte("eth,0xbad,"), lines[bad][4:]...)
	}
	os.WriteFile(p, bytes.Join(lines, nil), 0o644)
	m := newMemSink()
	_, err := Run(context.Background(), m, Options{Format: "transfers", Files: []string{p}, BatchTransfers: 1000})
	var re *RowError
	if !errors.As(err, &re) || re.Line != int64(bad+1) {
		t.Fatalf("got %v, want a row error on line %d", err, bad+1)
	}
	before := len(m.ts)
	if before < 6000 || before >= bad {
		t.Errorf("%d transfers committed before line %d", before, bad+1)
	}
	lines[bad] = orig
	os.WriteFile(p, bytes.Join(lines, nil), 0o644)
	res := run(t, m, Options{Format: "transfers", Files: []string{p}, BatchTransfers: 1000})
	if res.Transfers != int64(10000-before) {
		t.Errorf("after the fix imported %d, want %d: it should resume after the committed batches", res.Transfers, 10000-before)
	}
	whole := newMemSink()
	run(t, whole, Options{Format: "transfers", Files: []string{p}})
	if d := cmp.Diff(whole.transfers(), m.transfers()); d != "" {
		t.Errorf("(-whole +fixed):\n%s", d)
	}
}

// TestTransfersChangedFile: rows appended to an imported file are imported
// on the next run (resume at the old end); if the bytes before a checkpoint
// change, the import starts over instead of trusting the offset.
func TestTransfersChangedFile(t *testing.T) {
	p := genFile(t, 6000) // > 1 MiB, so the checkpoint name survives edits past the first MiB
	m := newMemSink()
	run(t, m, Options{Format: "transfers", Files: []string{p}, BatchTransfers: 500})
	data, _ := os.ReadFile(p)
	if len(data) < 1<<20+10000 {
		t.Fatalf("file of %d bytes is too small for this test", len(data))
	}
	os.WriteFile(p, append(append([]byte(nil), data...), okRow...), 0o644)
	res := run(t, m, Options{Format: "transfers", Files: []string{p}, BatchTransfers: 500})
	if res.Transfers != 1 {
		t.Errorf("appended one row: imported %d, want 1", res.Transfers)
	}
	// Change the last generated row's amount: the bytes before the checkpoint
	// differ, so the import rereads the file and meets the changed transfer,
	// which the store refuses to overwrite.
	i := bytes.LastIndexByte(data[:len(data)-1], '\n')
	last := bytes.Replace(data[i+1:], []byte(","), []byte(",1"), 0)
	last = append(last[:len(last)-1], '7', '\n')
	changed := append(append(append([]byte(nil), data[:i+1]...), last...), okRow...)
	os.WriteFile(p, changed, 0o644)
	_, err := Run(context.Background(), m, Options{Format: "transfers", Files: []string{p}, BatchTransfers: 500})
	if err == nil || !strings.Contains(err.Error(), "conflict") {
		t.Errorf("got %v, want the import to restart and hit the changed transfer", err)
	}
}

func TestParseDecimalUnits(t *testing.T) {
	for _, c := range []struct {
		in   string
		dec  int
		want string
		err  string
	}{
		{"1.53021962", 18, "1530219620000000000", ""},
		{"0", 18, "0", ""},
		{"108,714.272823", 6, "108714272823", ""},
		{"1,234,567", 0, "1234567", ""},
		{".5", 1, "5", ""},
		{"7.056176614974947328", 18, "7056176614974947328", ""},
		{"1.50", 1, "15", ""},
		{"1.55", 1, "", "has 2 decimal places; the asset has 1"},
		{"1,23.4", 2, "", "misplaced thousands separator"},
		{"1e5", 2, "", "not a non-negative decimal number"},
		{"-1", 2, "", "not a non-negative decimal number"},
		{"", 2, "", "empty amount"},
		{strings.Repeat("9", 80), 0, "", "does not fit 256 bits"},
	} {
		got, err := parseDecimalUnits(c.in, c.dec)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: got %v, want error %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got.Dec() != c.want {
			t.Errorf("%q/%d: got %s, %v; want %s", c.in, c.dec, got.Dec(), err, c.want)
		}
	}
}

func TestRecordReaderQuoted(t *testing.T) {
	in := "a,b,c\r\n\"x,1\",\"he said \"\"hi\"\"\",\"multi\nline\"\n\nplain,2,3"
	rr := newRecordReader(strings.NewReader(in), "q.csv")
	var got []string
	var lines []int64
	for {
		f, err := rr.next()
		if err != nil {
			break
		}
		var parts []string
		for _, x := range f {
			parts = append(parts, string(x))
		}
		got = append(got, strings.Join(parts, "|"))
		lines = append(lines, rr.recLine)
	}
	want := []string{"a|b|c", "x,1|he said \"hi\"|multi\nline", "plain|2|3"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int64{1, 2, 5}, lines); d != "" {
		t.Errorf("record lines (-want +got):\n%s", d)
	}
	if rr.offset() != int64(len(in)) {
		t.Errorf("offset %d, want %d", rr.offset(), len(in))
	}
}

func ExampleRowError() {
	e := &RowError{File: "t.csv", Line: 12, Field: "amount", Value: "1e5", Err: fmt.Errorf("not a non-negative decimal integer")}
	fmt.Println(e)
	// Output: t.csv:12: field amount "1e5": not a non-negative decimal integer
}
