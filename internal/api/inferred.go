package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/trace"
)

// DepositMethod is the method name of the deposit-address heuristic's
// inferred sets (intel.InferredSet.Method).
const DepositMethod = "deposit-address"

// InferredSets is implemented by attributors that hold stored inferred
// sets (*intel.DB, and compositions of it).
type InferredSets interface {
	HasInferred(chain model.Chain, method string) (intel.InferredInfo, bool)
}

// Evidencer is implemented by attributors that keep the evidence of their
// inferred attributions (*intel.DB): false when there is none, an error when
// reading it failed.
type Evidencer interface {
	ReadEvidence(a *model.Attribution) (intel.Evidence, bool, error)
}

// InferFunc recomputes the inferred deposit addresses of a chain from the
// served ledger, stores them (replacing the previous set) and reloads the
// server's attributions; it returns the new set's description.
type InferFunc func(ctx context.Context, chain model.Chain) (intel.InferredInfo, error)

// ErrInferRunning: an inference is already running.
var ErrInferRunning = errors.New("an inference is already running; try again when it has finished")

// depositSet returns the deposit-address set of chain that attributor a
// holds, or an error saying how to make one.
func depositSet(a Attributor, chain model.Chain) (intel.InferredInfo, error) {
	if h, ok := a.(InferredSets); ok {
		if info, ok := h.HasInferred(chain, DepositMethod); ok {
			return info, nil
		}
	}
	return intel.InferredInfo{}, &httpError{http.StatusConflict, fmt.Sprintf(
		"deposit_heuristic: no inferred deposit addresses are stored for %s (POST /api/v1/intel/infer/deposits {\"chain\":%q}, or redthread intel infer deposits --chain %s while the server is stopped)",
		chain, chain, chain)}
}

// crossedSets returns the deposit-address sets a holds for the chains,
// other than traced, that the trace result crossed into (over bridges): a
// deposit_heuristic trace stops at their inferred deposit addresses too, so
// the answer names them beside the traced chain's set.
func crossedSets(a Attributor, res *trace.Result, traced model.Chain) []intel.InferredInfo {
	h, ok := a.(InferredSets)
	if !ok {
		return nil
	}
	var out []intel.InferredInfo
	seen := map[model.Chain]bool{traced: true}
	for _, e := range res.Edges {
		c := model.Chain(e.Chain)
		if seen[c] {
			continue
		}
		seen[c] = true
		if info, ok := h.HasInferred(c, DepositMethod); ok {
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Chain < out[j].Chain })
	return out
}

// inferredList lists the stored inferred sets.
func (s *Server) inferredList(w http.ResponseWriter, r *http.Request) error {
	out := struct {
		Sets []intel.InferredInfo `json:"sets"`
	}{Sets: []intel.InferredInfo{}}
	if a, ok := s.attributor().(interface{ Inferred() []intel.InferredInfo }); ok { // *intel.DB and compositions of it
		out.Sets = append(out.Sets, a.Inferred()...)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// inferDeposits recomputes a chain's inferred deposit addresses.
func (s *Server) inferDeposits(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Infer == nil || s.opts.Graph == nil {
		return fmt.Errorf("inference: %w", errNotConfigured)
	}
	var body struct {
		Chain string `json:"chain"`
	}
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	chain := model.Chain(strings.ToLower(strings.TrimSpace(body.Chain)))
	if chain == "" {
		return badRequest("chain is required")
	}
	gr := s.opts.Graph.Reader()
	_, ok := gr.Chain(chain)
	gr.Close()
	if !ok {
		return &httpError{http.StatusNotFound, fmt.Sprintf("unknown chain: %s is not indexed", chain)}
	}
	if !s.inferMu.TryLock() {
		return &httpError{http.StatusConflict, ErrInferRunning.Error()}
	}
	defer s.inferMu.Unlock()
	t0 := time.Now()
	info, err := s.opts.Infer(r.Context(), chain)
	if err != nil {
		return err
	}
	s.log.Info("inferred deposit addresses", "chain", chain, "attributions", info.Attributions, "head_block", info.Head, "took", time.Since(t0).Round(time.Millisecond))
	writeJSON(w, http.StatusOK, struct {
		Set     intel.InferredInfo `json:"set"`
		Seconds float64            `json:"seconds"`
	}{info, time.Since(t0).Seconds()})
	return nil
}
