package screen

import "testing"

func BenchmarkCompareTry(b *testing.B) {
	x, _ := PrepareName("TURAB, Abu", "")
	y, _ := PrepareName("ABU MANSUR AL SAYYED", "")
	z, _ := PrepareName("Kim Jong Un", "")
	w, _ := PrepareName("Jin Zheng En", "")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		CompareNames(x, y)
		CompareNames(z, w)
	}
}
