package traceeval

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/importer"
	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/synth"
	"github.com/redthread/redthread/internal/trace"
)

// World is a synthetic world ready to be traced: its ground truth, the
// graph index of both chains, the true owners as trace attributions and the
// swap and bridge events as conversions.
type World struct {
	Dir         string
	Truth       *synth.Truth
	Index       *graph.Index
	Labels      *trace.Labels // the true owners (truth/addresses.csv)
	Intel       *trace.Labels // the world's intel pack (intel/synth.tagpack.yaml): partial, some wrong
	Conversions *trace.ConversionSet
}

// indexSink feeds generated blocks into a graph index in batches.
type indexSink struct {
	synth.Discard
	ix    *graph.Index
	batch []model.Block
	n     int
}

func (s *indexSink) Block(b *synth.Block) error {
	s.batch = append(s.batch, b.ModelBlock())
	s.n += len(b.Transfers)
	if s.n >= 1<<14 {
		return s.flush()
	}
	return nil
}

func (s *indexSink) flush() error {
	if len(s.batch) == 0 {
		return nil
	}
	err := s.ix.Append(s.batch)
	s.batch, s.n = s.batch[:0], 0
	return err
}

// Write lets the import of a world's transfer files append to the index
// (importer.Sink); there are no checkpoints to keep.
func (s *indexSink) Write(_ context.Context, blocks []model.Block, _ string, _ []byte) error {
	return s.ix.Append(blocks)
}

func (s *indexSink) Checkpoint(string) ([]byte, bool, error) { return nil, false, nil }

func newIndex() *graph.Index { return graph.New(graph.Options{KeepTxHashes: true, Bulk: true}) }

// Generate writes the world of p into dir (as `redthread synth` does) and
// indexes its ledger while it is generated, then reads the ground truth back.
func Generate(ctx context.Context, p synth.Params, dir string) (*World, error) {
	sink := &indexSink{ix: newIndex()}
	if _, _, err := synth.WriteDir(ctx, p, dir, sink); err != nil {
		return nil, fmt.Errorf("generate world: %w", err)
	}
	if err := sink.flush(); err != nil {
		return nil, fmt.Errorf("index world: %w", err)
	}
	sink.ix.Compact()
	return finish(dir, sink.ix)
}

// Open reads a world directory written by `redthread synth`: its transfer
// files into a graph index, then its ground truth and events.
func Open(ctx context.Context, dir string) (*World, error) {
	sink := &indexSink{ix: newIndex()}
	var files []string
	for _, c := range []model.Chain{synth.Chain1, synth.Chain2} {
		f := filepath.Join(dir, synth.TransfersFile(c))
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("open world: %w", err)
		}
		files = append(files, f)
	}
	if _, err := importer.Run(ctx, sink, importer.Options{Format: "transfers", Files: files, Restart: true}); err != nil {
		return nil, fmt.Errorf("read world ledger: %w", err)
	}
	sink.ix.Compact()
	return finish(dir, sink.ix)
}

func finish(dir string, ix *graph.Index) (*World, error) {
	t, err := synth.ReadTruth(filepath.Join(dir))
	if err != nil {
		return nil, fmt.Errorf("read ground truth: %w", err)
	}
	w := &World{Dir: dir, Truth: t, Index: ix, Labels: trace.NewLabels()}
	if err := readFile(filepath.Join(dir, synth.FileAddresses), func(r io.Reader, name string) error {
		_, err := trace.ReadLabels(r, name, w.Labels)
		return err
	}); err != nil {
		return nil, err
	}
	w.Intel = trace.NewLabels()
	if err := readFile(filepath.Join(dir, "intel", "synth.tagpack.yaml"), func(r io.Reader, name string) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		ds, err := intel.LoadTagPack(intel.Input{Name: name, Data: b}, intel.Options{})
		if err != nil {
			return err
		}
		for _, a := range ds.Attributions {
			w.Intel.Add(a)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	rd := ix.Reader()
	defer rd.Close()
	g := trace.Index(rd)
	var conv []trace.Conversion
	if err := readFile(filepath.Join(dir, synth.FileSwaps), func(r io.Reader, name string) error {
		c, err := trace.ReadSwapEvents(r, name, g)
		conv = append(conv, c...)
		return err
	}); err != nil {
		return nil, err
	}
	if err := readFile(filepath.Join(dir, synth.FileBridges), func(r io.Reader, name string) error {
		c, err := trace.ReadBridgeEvents(r, name, g)
		conv = append(conv, c...)
		return err
	}); err != nil {
		return nil, err
	}
	if w.Conversions, err = trace.NewConversionSet(conv); err != nil {
		return nil, fmt.Errorf("conversions: %w", err)
	}
	return w, nil
}

func readFile(name string, fn func(io.Reader, string) error) error {
	fh, err := os.Open(name)
	if err != nil {
		return err
	}
	defer fh.Close()
	return fn(fh, name)
}
