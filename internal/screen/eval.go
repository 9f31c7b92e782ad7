package screen

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

//go:embed testdata/eval/pairs.tsv
var evalPairsTSV string

// EvalPair is one labelled pair of the evaluation set.
type EvalPair struct {
	Split    string // "dev" (used while tuning) or "test" (held out)
	Match    bool   // the two names are one person or company
	Category string
	A, B     string
	Source   string
}

// Excluded reports categories that no name matcher can get right and that
// are reported apart from the F1 figures: aliases that are other names,
// different people with the same name, and pairs whose truth is unknown.
func (p EvalPair) Excluded() bool {
	switch p.Category {
	case "other-name", "same-name", "uncertain":
		return true
	}
	return false
}

// EvalSet parses the evaluation set shipped in the package
// (testdata/eval/pairs.tsv; see its SOURCE.md).
func EvalSet() ([]EvalPair, error) { return ParseEvalSet(evalPairsTSV) }

// ParseEvalSet parses evaluation pairs: split, label (1/0), category, a, b,
// source, tab-separated; lines starting with '#' are comments.
func ParseEvalSet(s string) ([]EvalPair, error) {
	var out []EvalPair
	for i, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) < 5 {
			return nil, fmt.Errorf("eval set line %d: %d columns, want 6", i+1, len(c))
		}
		if c[1] != "0" && c[1] != "1" {
			return nil, fmt.Errorf("eval set line %d: label %q, want 0 or 1", i+1, c[1])
		}
		p := EvalPair{Split: c[0], Match: c[1] == "1", Category: c[2], A: c[3], B: c[4]}
		if len(c) > 5 {
			p.Source = c[5]
		}
		out = append(out, p)
	}
	return out, nil
}

// Metrics are precision, recall and F1 at one threshold.
type Metrics struct {
	Threshold float64 `json:"threshold"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	TN        int     `json:"tn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// EvalReport is the outcome of an evaluation run.
type EvalReport struct {
	Pairs      int                  `json:"pairs"`
	Splits     map[string][]Metrics `json:"splits"` // "dev", "test", "all"
	Categories []CategoryStat       `json:"categories"`
	Errors     []ScoredPair         `json:"errors"` // misclassified at the reference threshold
	Required   []ScoredPair         `json:"required"`
}

// CategoryStat summarizes one category at the reference threshold.
type CategoryStat struct {
	Category string  `json:"category"`
	Label    int     `json:"label"`
	Excluded bool    `json:"excluded"`
	Pairs    int     `json:"pairs"`
	Flagged  int     `json:"flagged"` // scored at or above the reference threshold
	Mean     float64 `json:"mean_score"`
}

// ScoredPair is a pair with its score.
type ScoredPair struct {
	EvalPair
	Score float64 `json:"score"`
	Mode  string  `json:"mode"`
}

// DefaultThresholds are the thresholds the evaluation reports.
var DefaultThresholds = []float64{0.6, 0.65, 0.7, 0.72, 0.75, 0.8, 0.85}

// ReferenceThreshold is the threshold docs/screening.md recommends for
// name-only screening.
const ReferenceThreshold = 0.72

// Evaluate scores every pair and computes metrics per split.
func Evaluate(pairs []EvalPair, thresholds []float64) (EvalReport, error) {
	rep := EvalReport{Pairs: len(pairs), Splits: map[string][]Metrics{}}
	scored := make([]ScoredPair, 0, len(pairs))
	for _, p := range pairs {
		r, err := Compare(p.A, p.B)
		if err != nil {
			return rep, fmt.Errorf("pair %q / %q: %w", p.A, p.B, err)
		}
		scored = append(scored, ScoredPair{p, r.Score, r.Explanation.Mode})
	}
	for _, split := range []string{"dev", "test", "all"} {
		for _, th := range thresholds {
			m := Metrics{Threshold: th}
			for _, s := range scored {
				if s.Excluded() || (split != "all" && s.Split != split) {
					continue
				}
				hit := s.Score >= th
				switch {
				case s.Match && hit:
					m.TP++
				case s.Match:
					m.FN++
				case hit:
					m.FP++
				default:
					m.TN++
				}
			}
			if m.TP+m.FP > 0 {
				m.Precision = float64(m.TP) / float64(m.TP+m.FP)
			}
			if m.TP+m.FN > 0 {
				m.Recall = float64(m.TP) / float64(m.TP+m.FN)
			}
			if m.Precision+m.Recall > 0 {
				m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
			}
			m.Precision, m.Recall, m.F1 = round3(m.Precision), round3(m.Recall), round3(m.F1)
			rep.Splits[split] = append(rep.Splits[split], m)
		}
	}
	cats := map[string]*CategoryStat{}
	for _, s := range scored {
		c := cats[s.Category]
		if c == nil {
			c = &CategoryStat{Category: s.Category, Excluded: s.Excluded()}
			if s.Match {
				c.Label = 1
			}
			cats[s.Category] = c
		}
		c.Pairs++
		c.Mean += s.Score
		if s.Score >= ReferenceThreshold {
			c.Flagged++
		}
		if !s.Excluded() && (s.Score >= ReferenceThreshold) != s.Match {
			rep.Errors = append(rep.Errors, s)
		}
	}
	for _, c := range cats {
		c.Mean = round3(c.Mean / float64(c.Pairs))
		rep.Categories = append(rep.Categories, *c)
	}
	sort.Slice(rep.Categories, func(i, j int) bool { return rep.Categories[i].Category < rep.Categories[j].Category })
	for _, req := range [][2]string{{"Kim Song Il", "Kim Jong Il"}, {"Jang Myong Jin", "Chang Myong Chin"}, {"Kim Chol Sam", "Jin Tiesan"}} {
		r, err := Compare(req[0], req[1])
		if err != nil {
			return rep, err
		}
		rep.Required = append(rep.Required, ScoredPair{EvalPair{A: req[0], B: req[1]}, r.Score, r.Explanation.Mode})
	}
	return rep, nil
}

// FormatEval renders a report as text.
func FormatEval(rep EvalReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "evaluation set: %d pairs (excluded categories are not in the figures)\n\n", rep.Pairs)
	for _, split := range []string{"dev", "test", "all"} {
		fmt.Fprintf(&b, "%s\n  threshold  precision  recall  f1     tp   fp   fn   tn\n", split)
		for _, m := range rep.Splits[split] {
			fmt.Fprintf(&b, "  %-9s  %-9.3f  %-6.3f  %-5.3f  %-4d %-4d %-4d %d\n", strconv.FormatFloat(m.Threshold, 'f', -1, 64), m.Precision, m.Recall, m.F1, m.TP, m.FP, m.FN, m.TN)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "categories (flagged = score >= %.2f)\n", ReferenceThreshold)
	for _, c := range rep.Categories {
		ex := ""
		if c.Excluded {
			ex = " (excluded)"
		}
		fmt.Fprintf(&b, "  %-18s label %d  pairs %-4d flagged %-4d mean %.3f%s\n", c.Category, c.Label, c.Pairs, c.Flagged, c.Mean, ex)
	}
	b.WriteString("\nrequired pairs\n")
	for _, r := range rep.Required {
		fmt.Fprintf(&b, "  %.3f  %s / %s (%s)\n", r.Score, r.A, r.B, r.Mode)
	}
	fmt.Fprintf(&b, "\nerrors at %.2f: %d\n", ReferenceThreshold, len(rep.Errors))
	for _, e := range rep.Errors {
		fmt.Fprintf(&b, "  %s label %d %.3f  %s / %s [%s]\n", e.Split, b2i(e.Match), e.Score, e.A, e.B, e.Category)
	}
	return b.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
