package synth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// TransfersHeader is the header of the generic transfers CSV.
const TransfersHeader = "chain,tx_hash,block_number,block_timestamp,position,from_address,to_address,asset,amount"

// LedgerWriter writes blocks as the generic transfers CSV. Position is the
// packed model.Position (transaction index << 32 | sequence).
type LedgerWriter struct {
	w      *bufio.Writer
	line   []byte
	hashes []byte
}

// NewLedgerWriter writes the header to w and returns the writer.
func NewLedgerWriter(w io.Writer) (*LedgerWriter, error) {
	lw := &LedgerWriter{w: bufio.NewWriterSize(w, 1<<20)}
	if _, err := lw.w.WriteString(TransfersHeader + "\n"); err != nil {
		return nil, err
	}
	return lw, nil
}

// Block appends the block's transfers.
func (lw *LedgerWriter) Block(b *Block) error {
	w := b.World
	ci := b.ChainIdx
	s := w.specs[ci]
	lw.hashes = lw.hashes[:0]
	for i := range b.Txs {
		h := w.txHashBytes(ci, b.Number, b.Txs[i].Index)
		lw.hashes = appendHex(lw.hashes, h[:])
	}
	var prefix [64]byte
	pre := append(prefix[:0], s.chain...)
	pre = append(pre, ',')
	var tail [48]byte
	tl := append(tail[:0], ',')
	tl = strconv.AppendUint(tl, b.Number, 10)
	tl = append(tl, ',')
	tl = strconv.AppendInt(tl, b.Time, 10)
	tl = append(tl, ',')
	line := lw.line
	for i := range b.Transfers {
		t := &b.Transfers[i]
		line = append(line[:0], pre...)
		line = append(line, lw.hashes[int(t.TxIndex)*66:int(t.TxIndex)*66+66]...)
		line = append(line, tl...)
		line = strconv.AppendUint(line, uint64(model.MakePosition(t.TxIndex, t.Seq)), 10)
		line = append(line, ',')
		line = w.appendAddress(line, ci, t.From)
		line = append(line, ',')
		line = w.appendAddress(line, ci, t.To)
		line = append(line, ',')
		line = append(line, s.assets[t.Asset].ID...)
		line = append(line, ',')
		line = strconv.AppendUint(line, t.Amount, 10)
		if t.Amount != 0 {
			for k := s.assets[t.Asset].granExp; k > 0; k-- {
				line = append(line, '0')
			}
		}
		line = append(line, '\n')
		if _, err := lw.w.Write(line); err != nil {
			return err
		}
	}
	lw.line = line
	return nil
}

// Flush writes buffered rows.
func (lw *LedgerWriter) Flush() error { return lw.w.Flush() }

// Files written by WriteDir, relative to its directory.
const (
	FileAssets    = "assets.csv"
	FileSwaps     = "swaps.csv"
	FileBridges   = "bridges.csv"
	FileFlows     = "truth/flows.csv"
	FileEndpoints = "truth/endpoints.csv"
	FileMixes     = "truth/mixes.csv"
	FileAddresses = "truth/addresses.csv"
	FileLaunder   = "truth/laundering.csv"
	FileLabels    = "truth/labels.csv"
	FileSummary   = "truth/summary.json"
	FileTagPack   = "intel/synth.tagpack.yaml"
)

// TransfersFile returns the ledger file of a chain, relative to the directory.
func TransfersFile(c model.Chain) string { return "transfers-" + string(c) + ".csv" }

// DirSink writes a world's ledger, events and ground truth into a directory.
type DirSink struct {
	dir                                     string
	files                                   []*os.File
	bufs                                    []*bufio.Writer
	ledger                                  [2]*LedgerWriter
	swaps, bridges, flows, endpoints, mixes *bufio.Writer
	line                                    []byte

	async  chan *Block
	free   chan *Block
	done   chan error
	failed atomic.Bool
}

// NewDirSink creates dir (which must not exist or be empty) and its files.
func NewDirSink(dir string) (*DirSink, error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("output directory %s is not empty", dir)
	}
	for _, sub := range []string{"", "truth", "intel"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("create output directory: %w", err)
		}
	}
	d := &DirSink{dir: dir}
	open := func(name, header string) (*bufio.Writer, error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		d.files = append(d.files, f)
		bw := bufio.NewWriterSize(f, 1<<16)
		d.bufs = append(d.bufs, bw)
		if header != "" {
			bw.WriteString(header + "\n")
		}
		return bw, nil
	}
	var err error
	for i, c := range []model.Chain{Chain1, Chain2} {
		var f *os.File
		if f, err = os.Create(filepath.Join(dir, TransfersFile(c))); err != nil {
			d.Close()
			return nil, err
		}
		d.files = append(d.files, f)
		if d.ledger[i], err = NewLedgerWriter(f); err != nil {
			d.Close()
			return nil, err
		}
	}
	for _, x := range []struct {
		w      **bufio.Writer
		name   string
		header string
	}{
		{&d.swaps, FileSwaps, SwapsHeader},
		{&d.bridges, FileBridges, BridgesHeader},
		{&d.flows, FileFlows, FlowsHeader},
		{&d.endpoints, FileEndpoints, EndpointsHeader},
		{&d.mixes, FileMixes, MixesHeader},
	} {
		if *x.w, err = open(x.name, x.header); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

// Block implements Sink. The CSV rows are formatted on a second goroutine
// (in block order) while generation goes on.
func (d *DirSink) Block(b *Block) error {
	if d.async == nil {
		d.async = make(chan *Block, 64)
		d.free = make(chan *Block, 80)
		d.done = make(chan error, 1)
		go d.format()
	}
	if d.failed.Load() {
		return d.stop()
	}
	var c *Block
	select {
	case c = <-d.free:
	default:
		c = &Block{}
	}
	c.World, c.ChainIdx, c.Number, c.Time, c.Validator = b.World, b.ChainIdx, b.Number, b.Time, b.Validator
	c.Txs = append(c.Txs[:0], b.Txs...)
	c.Transfers = append(c.Transfers[:0], b.Transfers...)
	d.async <- c
	return nil
}

func (d *DirSink) format() {
	var err error
	for b := range d.async {
		if err == nil {
			if err = d.ledger[b.ChainIdx].Block(b); err != nil {
				d.failed.Store(true)
			}
		}
		select {
		case d.free <- b:
		default:
		}
	}
	d.done <- err
}

// stop ends the formatting goroutine and returns its error.
func (d *DirSink) stop() error {
	if d.async == nil {
		return nil
	}
	close(d.async)
	err := <-d.done
	d.async = nil
	return err
}

func (d *DirSink) row(w *bufio.Writer, fields ...any) error {
	l := d.line[:0]
	for i, f := range fields {
		if i > 0 {
			l = append(l, ',')
		}
		switch v := f.(type) {
		case string:
			l = append(l, csvQuote(v)...)
		case model.Chain:
			l = append(l, v...)
		case model.Category:
			l = append(l, v...)
		case uint64:
			l = strconv.AppendUint(l, v, 10)
		case int64:
			l = strconv.AppendInt(l, v, 10)
		case model.Position:
			l = strconv.AppendUint(l, uint64(v), 10)
		case uint256.Int:
			l = append(l, v.Dec()...)
		default:
			panic(fmt.Sprintf("synth: row field %T", f))
		}
	}
	l = append(l, '\n')
	d.line = l
	_, err := w.Write(l)
	return err
}

// Swap implements Sink.
func (d *DirSink) Swap(s *Swap) error {
	return d.row(d.swaps, s.Chain, s.TxHash, s.Block, s.Time, s.Pool, s.Trader, s.AssetIn, s.AmountIn, s.AssetOut, s.AmountOut)
}

// Bridge implements Sink.
func (d *DirSink) Bridge(x *Bridge) error {
	return d.row(d.bridges, x.InChain, x.InTx, x.InBlock, x.InTime, x.InFrom, x.InVault, x.InAsset, x.InAmount, x.Memo,
		x.OutChain, x.OutTx, x.OutBlock, x.OutTime, x.OutVault, x.OutTo, x.OutAsset, x.OutAmount, x.OutMemo)
}

// Flow implements Sink.
func (d *DirSink) Flow(f *Flow) error {
	return d.row(d.flows, f.Scenario, f.Step, f.Chain, f.TxHash, f.Block, f.Time, f.Position, f.From, f.To, f.Asset, f.Amount, f.Stolen)
}

// Endpoint implements Sink.
func (d *DirSink) Endpoint(e *Endpoint) error {
	return d.row(d.endpoints, e.Scenario, e.Chain, e.Address, e.Entity, e.Category, e.Asset, e.Stolen, e.TxHash, e.Block, e.Time)
}

// Mix implements Sink.
func (d *DirSink) Mix(m *Mix) error {
	return d.row(d.mixes, m.Scenario, m.Chain, m.Pool, m.Amount, m.DepositTx, m.Depositor, m.DepositAt, m.WithdrawTx, m.Recipient, m.WithdrawAt)
}

// Finish writes the files that need the finished world and closes everything.
func (d *DirSink) Finish(w *World, st *Stats) error {
	err := d.flush()
	write := func(name string, fn func(io.Writer) error) {
		if err != nil {
			return
		}
		var f *os.File
		if f, err = os.Create(filepath.Join(d.dir, name)); err != nil {
			return
		}
		if err = fn(f); err != nil {
			f.Close()
			return
		}
		err = f.Close()
	}
	write(FileAssets, w.writeAssets)
	write(FileAddresses, w.writeAddresses)
	write(FileLaunder, w.writeLaundering)
	write(FileSummary, func(o io.Writer) error { return w.writeSummary(o, st) })
	labels := w.Labels()
	write(FileLabels, func(o io.Writer) error { return writeLabelTruth(o, labels) })
	write(FileTagPack, func(o io.Writer) error { return w.writeTagPack(o, labels) })
	return errors.Join(err, d.Close())
}

func (d *DirSink) flush() error {
	errs := []error{d.stop()}
	for _, l := range d.ledger {
		if l != nil {
			errs = append(errs, l.Flush())
		}
	}
	for _, b := range d.bufs {
		errs = append(errs, b.Flush())
	}
	return errors.Join(errs...)
}

// Close closes the files without flushing.
func (d *DirSink) Close() error {
	errs := []error{d.stop()}
	for _, f := range d.files {
		errs = append(errs, f.Close())
	}
	d.files = nil
	return errors.Join(errs...)
}

func (w *World) writeAssets(out io.Writer) error {
	bw := bufio.NewWriter(out)
	fmt.Fprintln(bw, "chain,asset,symbol,decimals")
	for _, s := range w.specs {
		for _, a := range s.assets {
			fmt.Fprintf(bw, "%s,%s,%s,%d\n", s.chain, a.ID, a.Symbol, a.Decimals)
		}
	}
	return bw.Flush()
}

// Tee sends everything to every sink in turn.
type Tee []Sink

func (t Tee) each(f func(Sink) error) error {
	for _, s := range t {
		if err := f(s); err != nil {
			return err
		}
	}
	return nil
}

func (t Tee) Block(b *Block) error       { return t.each(func(s Sink) error { return s.Block(b) }) }
func (t Tee) Swap(x *Swap) error         { return t.each(func(s Sink) error { return s.Swap(x) }) }
func (t Tee) Bridge(x *Bridge) error     { return t.each(func(s Sink) error { return s.Bridge(x) }) }
func (t Tee) Flow(x *Flow) error         { return t.each(func(s Sink) error { return s.Flow(x) }) }
func (t Tee) Endpoint(x *Endpoint) error { return t.each(func(s Sink) error { return s.Endpoint(x) }) }
func (t Tee) Mix(x *Mix) error           { return t.each(func(s Sink) error { return s.Mix(x) }) }

// WriteDir generates the world into dir (ledger CSVs, events, ground truth,
// intel pack), also feeding extra sinks (for example a store loader).
func WriteDir(ctx context.Context, p Params, dir string, extra ...Sink) (*World, *Stats, error) {
	if _, err := p.withDefaults(); err != nil {
		return nil, nil, err // before anything is created
	}
	d, err := NewDirSink(dir)
	if err != nil {
		return nil, nil, err
	}
	var sink Sink = d
	if len(extra) > 0 {
		sink = append(Tee{d}, extra...)
	}
	w, st, err := Generate(ctx, p, sink)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	if err := d.Finish(w, st); err != nil {
		return nil, nil, fmt.Errorf("write %s: %w", dir, err)
	}
	return w, st, nil
}
