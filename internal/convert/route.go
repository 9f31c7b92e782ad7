package convert

import (
	"github.com/redthread/redthread/internal/model"
)

// Collapse joins multi-hop swap routes into one conversion each: when a
// swap's Out leg is the next swap's In leg (pool 1 paid pool 2 directly, as
// Uniswap routers do), the chain of hops becomes one conversion from the
// first hop's In leg to the last hop's Out leg, at the rate last amount out
// over first amount in, with the pools joined by " > " in Ref. Taint then
// crosses the whole route in one step, as it does in the chain: the
// intermediate pools only pass the tokens on. Other conversions are kept as
// they are; hops that only pay each other in a loop stay single. It returns
// the conversions in the order of their In legs.
func Collapse(cs []model.Conversion) []model.Conversion {
	byIn := make(map[model.Leg]int, len(cs))
	isNext := make(map[int]bool)
	for i := range cs {
		if cs[i].Kind == model.ConvSwap && cs[i].In.Known() {
			byIn[cs[i].In] = i
		}
	}
	for i := range cs {
		if cs[i].Kind != model.ConvSwap {
			continue
		}
		if j, ok := byIn[cs[i].Out]; ok && j != i {
			isNext[j] = true
		}
	}
	if len(isNext) == 0 {
		return cs
	}
	out := make([]model.Conversion, 0, len(cs)-len(isNext))
	used := make([]bool, len(cs))
	for i := range cs {
		if isNext[i] {
			continue // part of a route that starts earlier
		}
		c := cs[i]
		used[i] = true
		if c.Kind == model.ConvSwap {
			for {
				j, ok := byIn[c.Out]
				if !ok || used[j] {
					break
				}
				used[j] = true
				next := cs[j]
				c.Out, c.AmountOut = next.Out, next.AmountOut
				c.Ref += " > " + next.Ref
			}
		}
		out = append(out, c)
	}
	// Swaps that only pay each other in a loop (a cyclic arbitrage inside
	// one transaction) have no first hop: they stay single conversions.
	for i := range cs {
		if !used[i] {
			out = append(out, cs[i])
		}
	}
	out, _ = Dedupe(out)
	return out
}
