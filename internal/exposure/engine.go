package exposure

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
)

// Engine computes and caches exposures over a graph index. It is safe for
// concurrent use.
type Engine struct {
	ix   *graph.Index
	opts Options

	mu   sync.RWMutex
	attr Attributor
	gen  uint64 // bumped when the attributions change (every chain's results)
	// cgen is bumped per chain when that chain's graph was rolled back
	// (InvalidateChain): its cached results may count abandoned blocks.
	cgen map[model.Chain]uint64

	sets   attrSets
	cache  *cache
	hits   atomic.Uint64
	misses atomic.Uint64

	// testHook, set by tests only, runs in entry after the generations are
	// read ("generation") and after the graph view is taken ("view").
	testHook func(stage string, req Request)
}

// New returns an engine over the graph index with the given attributions
// (nil: none).
func New(ix *graph.Index, attr Attributor, o Options) *Engine {
	o = o.withDefaults()
	e := &Engine{ix: ix, opts: o, attr: attr}
	if o.CacheEntries > 0 {
		e.cache = newCache(o.CacheEntries)
	}
	return e
}

// SetAttributor replaces the attributions (after an intel load or update)
// and drops every cached result.
func (e *Engine) SetAttributor(a Attributor) {
	e.mu.Lock()
	e.attr = a
	e.gen++
	e.mu.Unlock()
	if e.cache != nil {
		e.cache.clear()
	}
}

// Invalidate drops every cached result. The cache also notices by itself
// when a chain's graph has grown.
func (e *Engine) Invalidate() {
	e.mu.Lock()
	e.gen++
	e.mu.Unlock()
	if e.cache != nil {
		e.cache.clear()
	}
}

// InvalidateChain drops the cached results of one chain (after that chain's
// graph was rolled back; a rollback followed by appends can bring the graph
// back to the same length with other transfers, which the length check
// alone would miss). Other chains' results stay: an exposure reads only its
// own chain's graph. The chain's generation is bumped first, so a result
// computed before the call and stored after it is never served; then its
// entries are removed (one pass over the cache, each shard locked in turn).
func (e *Engine) InvalidateChain(c model.Chain) {
	e.mu.Lock()
	if e.cgen == nil {
		e.cgen = map[model.Chain]uint64{}
	}
	e.cgen[c]++
	e.mu.Unlock()
	if e.cache != nil {
		e.cache.dropChain(c)
	}
}

// CacheStats reports cache hits and misses since the engine was made.
func (e *Engine) CacheStats() (hits, misses uint64) { return e.hits.Load(), e.misses.Load() }

// Compute scores one address without the cache.
func (e *Engine) Compute(ctx context.Context, req Request) (*Result, error) {
	if err := req.normalize(e.opts.Now()); err != nil {
		return nil, err
	}
	e.mu.RLock()
	attr, gen := e.attr, e.gen
	e.mu.RUnlock()
	gr := e.ix.Reader()
	defer gr.Close()
	return e.compute(ctx, gr, attr, gen, &req)
}

// Exposure scores one address, from the cache when the graph and the
// attributions are unchanged since it was computed.
func (e *Engine) Exposure(ctx context.Context, req Request) (*Result, error) {
	ent, err := e.entry(ctx, req)
	if err != nil {
		return nil, err
	}
	return ent.res, nil
}

// JSON is Exposure encoded as compact JSON; the encoding is cached too.
func (e *Engine) JSON(ctx context.Context, req Request) ([]byte, error) {
	ent, err := e.entry(ctx, req)
	if err != nil {
		return nil, err
	}
	return ent.js, nil
}

func (e *Engine) entry(ctx context.Context, req Request) (*centry, error) {
	if err := req.normalize(e.opts.Now()); err != nil {
		return nil, err
	}
	e.mu.RLock()
	attr, gen, cgen := e.attr, e.gen, e.cgen[req.Chain]
	e.mu.RUnlock()
	if e.testHook != nil {
		e.testHook("generation", req)
	}
	gr := e.ix.Reader()
	defer gr.Close()
	// The chain's generation is read again: if InvalidateChain ran between
	// the two reads, the view may hold the new branch of a rollback, back
	// at an old length, while cgen is still the old generation, under
	// which an answer computed from the abandoned branch may have been
	// cached after the drop. Such a request neither reads nor fills the
	// cache. (A view taken with the same generation on both sides predates
	// the bump, so it predates every append after the rollback.)
	e.mu.RLock()
	cacheable := e.cache != nil && e.cgen[req.Chain] == cgen
	e.mu.RUnlock()
	if e.testHook != nil {
		e.testHook("view", req)
	}
	c, ok := gr.Chain(req.Chain)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not indexed", ErrUnknownChain, req.Chain)
	}
	glen := c.Len()
	key := ckey{chain: req.Chain, addr: req.Address, day: req.AsOf.Unix() / 86400, hops: uint8(req.Hops)}
	if cacheable {
		if ent := e.cache.get(key); ent != nil && ent.glen == glen && ent.gen == gen && ent.cgen == cgen {
			e.hits.Add(1)
			return ent, nil
		}
	}
	e.misses.Add(1)
	res, err := e.compute(ctx, gr, attr, gen, &req)
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode exposure: %w", err)
	}
	ent := &centry{glen: glen, gen: gen, cgen: cgen, res: res, js: js}
	if cacheable {
		e.cache.put(key, ent)
	}
	return ent, nil
}

// MaxBatch is the most requests one Batch call takes.
const MaxBatch = 10_000

// Item is the answer to one request of a batch: its JSON or its error.
type Item struct {
	JSON []byte
	Err  error
}

// Batch scores up to MaxBatch addresses concurrently (GOMAXPROCS workers),
// each through the cache. A bad request gets its error in its Item; the
// call fails only on a batch that is too large or a cancelled context.
func (e *Engine) Batch(ctx context.Context, reqs []Request) ([]Item, error) {
	if len(reqs) > MaxBatch {
		return nil, fmt.Errorf("%w: %d, at most %d", ErrBatchSize, len(reqs), MaxBatch)
	}
	out := make([]Item, len(reqs))
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(reqs))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(reqs) || ctx.Err() != nil {
					return
				}
				out[i].JSON, out[i].Err = e.JSON(ctx, reqs[i])
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// cache is a sharded map with random eviction of an eighth of a shard when
// it is full.
type cache struct {
	seed   maphash.Seed
	max    int // per shard
	shards [16]cshard
}

type cshard struct {
	mu sync.RWMutex
	m  map[ckey]*centry
}

type ckey struct {
	chain model.Chain
	addr  string
	day   int64
	hops  uint8
}

type centry struct {
	glen int
	gen  uint64 // the engine's generation when computed
	cgen uint64 // the chain's generation when computed
	res  *Result
	js   []byte
}

func newCache(n int) *cache {
	c := &cache{seed: maphash.MakeSeed(), max: max(1, n/16)}
	for i := range c.shards {
		c.shards[i].m = map[ckey]*centry{}
	}
	return c
}

func (c *cache) shard(k ckey) *cshard {
	return &c.shards[maphash.String(c.seed, k.addr)&15]
}

func (c *cache) get(k ckey) *centry {
	s := c.shard(k)
	s.mu.RLock()
	e := s.m[k]
	s.mu.RUnlock()
	return e
}

func (c *cache) put(k ckey, e *centry) {
	s := c.shard(k)
	s.mu.Lock()
	if len(s.m) >= c.max {
		drop := max(1, c.max/8)
		for k := range s.m {
			delete(s.m, k)
			if drop--; drop == 0 {
				break
			}
		}
	}
	s.m[k] = e
	s.mu.Unlock()
}

func (c *cache) clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.m = map[ckey]*centry{}
		s.mu.Unlock()
	}
}

// dropChain removes the entries of chain c.
func (c *cache) dropChain(chain model.Chain) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k := range s.m {
			if k.chain == chain {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
}

// len is the number of cached entries.
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
