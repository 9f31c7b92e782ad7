package importer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/progress"
)

// Sink receives batches; the ledger store, through a thin adapter.
type Sink interface {
	// Checkpoint returns the value stored under name.
	Checkpoint(name string) ([]byte, bool, error)
	// Write stores blocks and the checkpoint atomically.
	Write(ctx context.Context, blocks []model.Block, cpName string, cpValue []byte) error
}

// Options configure an import. Format and Files are required.
type Options struct {
	Format string   // one of Formats
	Files  []string // the main input files, imported one after another
	// Chain is the chain of formats without a chain column (default eth);
	// for the generic CSV, if set, every row must be on it.
	Chain model.Chain
	// Side files joined to the main ones (ethereum-etl formats).
	Receipts     []string // etl receipts: status, gas used, fee
	Transactions []string // etl transactions: block time, transaction index
	Blocks       []string // etl blocks: block time and hash
	NoReceipts   bool     // import etl transactions without receipts (status unknown, treated as success)
	// Etherscan token amounts: decimals per contract and symbol.
	Tokens   []TokenSpec
	Decimals *int // fallback decimals for tokens not in Tokens; nil: none (an unknown token is an error)

	BatchTransfers int  // default DefaultBatchTransfers
	Restart        bool // ignore checkpoints and read every file from the start

	Log      *slog.Logger      // nil: discard
	Progress progress.Reporter // nil: none

	explicitChain model.Chain
}

// Result summarizes an import.
type Result struct {
	Files     int
	Rows      int64
	Transfers int64
	Batches   int
	Skipped   int // files already complete according to their checkpoint
}

// checkpoint is the resume point of one file.
type checkpoint struct {
	Offset, Line int64
	Tail         string // hex SHA-256 of up to 4 KiB before Offset
}

func (c checkpoint) encode() []byte {
	return []byte(fmt.Sprintf("v1 %d %d %s", c.Offset, c.Line, c.Tail))
}

func decodeCheckpoint(b []byte) (checkpoint, error) {
	var c checkpoint
	f := strings.Fields(string(b))
	if len(f) != 4 || f[0] != "v1" {
		return c, fmt.Errorf("bad import checkpoint %q", truncate(string(b)))
	}
	var err1, err2 error
	c.Offset, err1 = strconv.ParseInt(f[1], 10, 64)
	c.Line, err2 = strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || c.Offset < 0 || c.Line < 1 {
		return c, fmt.Errorf("bad import checkpoint %q", truncate(string(b)))
	}
	c.Tail = f[3]
	return c, nil
}

const tailBytes = 4 << 10

// tailHash hashes the bytes of f just before offset, so a resumed import can
// tell that the part it skips is still what it imported.
func tailHash(f *os.File, offset int64) (string, error) {
	start := max(offset-tailBytes, 0)
	buf := make([]byte, offset-start)
	if _, err := f.ReadAt(buf, start); err != nil {
		return "", err
	}
	h := sha256.Sum256(buf)
	return hex.EncodeToString(h[:16]), nil
}

// fileIdentity is the absolute path and a hash of the first MiB of a file.
func fileIdentity(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, f, 1<<20); err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return abs + "/" + hex.EncodeToString(h.Sum(nil)[:8]), nil
}

// CheckpointName is the checkpoint under which the import of one file in
// the given format records its progress: "import/FORMAT/ABS-PATH/HASH",
// HASH covering the first MiB of the file, plus the identities of side files
// when the format joins them.
func CheckpointName(format, path string, side []string) (string, error) {
	id, err := fileIdentity(path)
	if err != nil {
		return "", err
	}
	name := "import/" + format + "/" + id
	if len(side) > 0 {
		h := sha256.New()
		for _, s := range side {
			sid, err := fileIdentity(s)
			if err != nil {
				return "", err
			}
			io.WriteString(h, sid+"\n")
		}
		name += "+" + hex.EncodeToString(h.Sum(nil)[:8])
	}
	return name, nil
}

// Run imports every file of o into sink, committing a checkpoint with each
// batch and resuming each file from its checkpoint.
func Run(ctx context.Context, sink Sink, o Options) (Result, error) {
	var res Result
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = progress.Nop()
	}
	o.explicitChain = o.Chain
	o.Chain = chainOrDefault(o.Chain)
	f, ok := formats[o.Format]
	if !ok {
		return res, fmt.Errorf("unknown format %q (formats: %s)", o.Format, strings.Join(Formats(), ", "))
	}
	if len(o.Files) == 0 {
		return res, errors.New("no input files")
	}
	prep, err := f.prepare(&o)
	if err != nil {
		return res, err
	}
	for _, path := range o.Files {
		if _, err := runFile(ctx, sink, &o, prep, path, &res); err != nil {
			return res, err
		}
		res.Files++
	}
	return res, nil
}

// runFile imports one file and returns its size. Progress is reported per
// file in bytes from the resume point, so rate and ETA describe this run.
func runFile(ctx context.Context, sink Sink, o *Options, prep preparer, path string, res *Result) (uint64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	size := uint64(fi.Size())
	name, err := CheckpointName(o.Format, path, prep.sideFiles())
	if err != nil {
		return size, err
	}
	start := checkpoint{Line: 1}
	if !o.Restart {
		v, ok, err := sink.Checkpoint(name)
		if err != nil {
			return size, fmt.Errorf("read checkpoint %s: %w", name, err)
		}
		if ok {
			cp, err := decodeCheckpoint(v)
			if err != nil {
				return size, err
			}
			if valid, err := checkTail(path, cp); err != nil {
				return size, err
			} else if valid {
				start = cp
			} else {
				o.Log.Warn("file changed before its checkpoint; importing it from the start", "file", path, "checkpoint_offset", cp.Offset)
			}
		}
	}
	if start.Offset > 0 {
		if uint64(start.Offset) >= size {
			o.Log.Info("file already imported", "file", path, "checkpoint", name)
			res.Skipped++
			return size, nil
		}
		o.Log.Info("resuming import", "file", path, "offset", start.Offset, "line", start.Line)
	}
	src, err := prep.open(path, start.Offset, start.Line)
	if err != nil {
		return size, err
	}
	o.Progress.Start("import "+o.Format+" "+filepath.Base(path), size-uint64(start.Offset), "bytes")
	var perr error
	defer func() { o.Progress.Finish(perr) }()
	transfers0 := res.Transfers
	defer src.Close()
	tailf, err := os.Open(path)
	if err != nil {
		return size, fmt.Errorf("open %s: %w", path, err)
	}
	defer tailf.Close()

	// Parse and write in parallel: a reader goroutine decodes the next batch
	// while this one writes the previous.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type item struct {
		b   *Batch
		err error
	}
	ch := make(chan item, 1)
	rows0 := res.Rows
	go func() {
		defer close(ch)
		for {
			b, err := src.Next(ctx)
			if errors.Is(err, io.EOF) {
				return
			}
			select {
			case ch <- item{b, err}:
			case <-ctx.Done():
				if b != nil {
					b.Release()
				}
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for it := range ch {
		if it.err != nil {
			perr = it.err
			return size, it.err
		}
		b := it.b
		tail, err := tailHash(tailf, b.Offset)
		if err != nil {
			return size, fmt.Errorf("read %s: %w", path, err)
		}
		cp := checkpoint{Offset: b.Offset, Line: b.Line, Tail: tail}
		if err := sink.Write(ctx, b.Blocks, name, cp.encode()); err != nil {
			perr = fmt.Errorf("import %s up to line %d: %w", path, b.Line-1, err)
			return size, perr
		}
		res.Batches++
		res.Transfers += int64(b.Transfers)
		res.Rows = rows0 + b.Rows
		o.Log.Debug("batch committed", "file", path, "offset", b.Offset, "line", b.Line, "transfers", b.Transfers)
		o.Progress.Update(uint64(b.Offset-start.Offset), progress.Counter{Name: "transfers", N: uint64(res.Transfers - transfers0)})
		b.Release()
	}
	return size, nil
}

// checkTail reports whether the bytes before a checkpoint's offset are still
// those it recorded.
func checkTail(path string, cp checkpoint) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	if cp.Offset > fi.Size() {
		return false, nil
	}
	h, err := tailHash(f, cp.Offset)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if h != cp.Tail {
		return false, nil
	}
	if cp.Offset > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], cp.Offset-1); err != nil {
			return false, err
		}
		if !bytes.Equal(last[:], []byte{'\n'}) && cp.Offset != fi.Size() {
			return false, nil
		}
	}
	return true, nil
}
