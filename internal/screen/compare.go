package screen

import "fmt"

// PairResult is the score of two names on their own.
type PairResult struct {
	A           string    `json:"a"`
	B           string    `json:"b"`
	Score       float64   `json:"score"` // name score × the name-only cap, in [0, 0.9]
	NameScore   float64   `json:"name_score"`
	NormalizedA string    `json:"normalized_a"`
	NormalizedB string    `json:"normalized_b"`
	Explanation NameScore `json:"explanation"`
	Notes       []string  `json:"notes,omitempty"`
}

// Compare scores two names with no other evidence, so the score is capped at
// the name-only cap (0.9).
func Compare(a, b string) (PairResult, error) {
	na, err := PrepareName(a, "")
	if err != nil {
		return PairResult{}, fmt.Errorf("first name: %w", err)
	}
	nb, err := PrepareName(b, "")
	if err != nil {
		return PairResult{}, fmt.Errorf("second name: %w", err)
	}
	ns := CompareNames(na, nb)
	r := PairResult{A: a, B: b, NameScore: round3(ns.Score), Score: round3(ns.Score * nameOnlyCap),
		NormalizedA: na.Norm, NormalizedB: nb.Norm, Explanation: ns}
	r.Explanation.Score = round3(ns.Score)
	for _, n := range na.Notes {
		r.Notes = append(r.Notes, "first: "+n)
	}
	for _, n := range nb.Notes {
		r.Notes = append(r.Notes, "second: "+n)
	}
	return r, nil
}
