package traceeval

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// pct formats basis points as a percentage with two decimals.
func pct(bp int64) string { return fmt.Sprintf("%d.%02d%%", bp/100, bp%100) }

// WriteText prints the report as a table: one row per scenario, policy and
// cash-out chain and asset; the address counts repeat on each row of a trace.
func (r *Report) WriteText(w io.Writer) error {
	labels := r.labels()
	fmt.Fprintf(w, "trace quality on synthetic world seed %d scale %d (forward from the theft, native coin, default stop rules, labels: %s%s)\n", r.Seed, r.Scale, labels, r.extra())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tpolicy\tchain:asset\tcash-out via mixer\trecovered\trecovered excl. mixer\tendpoint addresses\tentity agreement\texcess at cash-out\ttainted\tfalse pos.\tuntainted active\tfalse-pos. rate\tmissed\ttargets\t")
	for _, s := range r.Scores {
		ok := s.targets()
		for _, a := range s.Assets {
			sym := a.symbol()
			fmt.Fprintf(tw, "%s\t%s\t%s:%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%d\t%s\t\n", s.Scenario, s.Policy, a.Chain, sym, pct(a.ViaMixerBP),
				pct(a.RecoveryBP), pct(a.RecoveryNoMixBP), pct(a.AddressBP), pct(a.EntityBP), pct(a.ExcessBP),
				s.Tainted, s.FalsePositives, s.Untainted, pct(s.FalsePosBP), s.Missed, ok)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Scores {
		if s.Truncated {
			fmt.Fprintf(w, "%s %s truncated: %s\n", s.Scenario, s.Policy, s.Reason)
		}
	}
	return nil
}

// WriteMarkdown prints the report as a Markdown table (docs/trace-quality.md
// quotes it).
func (r *Report) WriteMarkdown(w io.Writer) error {
	labels := r.labels()
	fmt.Fprintf(w, "Seed %d, scale %d, labels %s%s:\n\n", r.Seed, r.Scale, labels, r.extra())
	fmt.Fprintln(w, "| scenario | policy | chain:asset | via mixer | recovered | excl. mixer | endpoint addr. | entity agr. | excess | tainted | false pos. | FP rate | targets |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
	for _, s := range r.Scores {
		ok := s.targets()
		for _, a := range s.Assets {
			sym := a.symbol()
			if _, err := fmt.Fprintf(w, "| %s | %s | %s:%s | %s | %s | %s | %s | %s | %s | %d | %d / %d | %s | %s |\n", s.Scenario, s.Policy, a.Chain, sym,
				pct(a.ViaMixerBP), pct(a.RecoveryBP), pct(a.RecoveryNoMixBP), pct(a.AddressBP), pct(a.EntityBP), pct(a.ExcessBP),
				s.Tainted, s.FalsePositives, s.Untainted, pct(s.FalsePosBP), ok); err != nil {
				return err
			}
		}
	}
	return nil
}

// extra describes the options beyond the defaults: the mixer mode with the
// links the traces crossed, and the attributions the deposit heuristic added.
func (r *Report) extra() string {
	if len(r.Scores) == 0 {
		return ""
	}
	s := ""
	if m := r.Scores[0].Mixer; m != "" {
		links := make([]string, 0, len(r.Scores))
		for _, x := range r.Scores {
			prec := "n/a"
			if x.MixLinks > 0 {
				prec = pct(x.MixPrecisionBP)
			}
			links = append(links, fmt.Sprintf("%d (%d paying out this scenario's notes, %d the exact pair; precision %s, recall %s of its %d notes)",
				x.MixLinks, x.MixLinksTrue, x.MixLinksExact, prec, pct(x.MixRecallBP), x.MixNotes))
		}
		s += fmt.Sprintf(", mixer %s (mix links crossed per trace: %s)", m, strings.Join(links, "; "))
		if d := r.Scores[0].MixWindow; d != "" {
			s += fmt.Sprintf(", deposit-to-withdrawal window %s", d)
		}
	}
	if n := r.Scores[0].Inferred; n > 0 {
		s += fmt.Sprintf(", %d attributions inferred", n)
	}
	if m := r.Scores[0].MinTaint; m != "" {
		below := make([]string, 0, len(r.Scores))
		for _, x := range r.Scores {
			below = append(below, pct(x.BelowMinBP))
		}
		s += fmt.Sprintf(", dust threshold %s (taint left below it per trace: %s of the seeded)", m, strings.Join(below, ", "))
	}
	if m := r.Scores[0].Mixer; m == "pool" || m == "fifo" {
		via := make([]string, 0, len(r.Scores))
		for _, x := range r.Scores {
			via = append(via, fmt.Sprintf("%d (%d withdrawal recipients, %d of another scenario's flow)", x.FalsePosViaPool, x.FalsePosPoolRecipients, x.FalsePosOtherScenario))
		}
		s += fmt.Sprintf("; false positives through a pool per trace: %s", strings.Join(via, ", "))
	}
	return s
}

// labels names the label source of the report's scores.
func (r *Report) labels() string {
	if len(r.Scores) > 0 {
		return r.Scores[0].Labels
	}
	return LabelsTruth
}

// targets says whether a score meets the targets, and whether it was cut.
func (s *Score) targets() string {
	ok := "met"
	if !s.MeetsGoals {
		ok = "missed"
	}
	if s.Truncated {
		ok += " (truncated)"
	}
	return ok
}

// symbol is the asset's symbol, or its id.
func (a *AssetScore) symbol() string {
	if a.Symbol != "" {
		return a.Symbol
	}
	return a.Asset
}
