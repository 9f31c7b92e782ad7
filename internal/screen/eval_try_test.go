package screen

import "testing"

func TestEvalTry(t *testing.T) {
	ps, err := EvalSet()
	if err != nil {
		t.Fatal(err)
	}
	var dev []EvalPair
	for _, p := range ps {
		if p.Split == "dev" {
			dev = append(dev, p)
		}
	}
	rep, err := Evaluate(dev, DefaultThresholds)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + FormatEval(rep))
}
