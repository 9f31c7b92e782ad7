package screen

import (
	"testing"

	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
)

// shippedEntities loads the entities of the packs shipped in the binary
// (OFAC SDN, UN consolidated list, …).
func shippedEntities(b *testing.B) ([]model.Entity, []model.Attribution) {
	b.Helper()
	ds, err := intel.NewStore(b.TempDir()).Datasets()
	if err != nil {
		b.Fatal(err)
	}
	return FromDatasets(ds)
}

// go test ./internal/screen -run XXX -bench NewIndex
func BenchmarkNewIndex(b *testing.B) {
	ents, attrs := shippedEntities(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		NewIndex(ents, attrs, Options{})
	}
}

// go test ./internal/screen -run XXX -bench Screen
func BenchmarkScreen(b *testing.B) {
	ents, attrs := shippedEntities(b)
	ix := NewIndex(ents, attrs, Options{})
	qs := []string{"Kim Jong Un", "Jin Tiesan", "Ri Song-hyok", "KOREA MINING DEVELOPMENT TRADING CORP", "Vladimir Putin",
		"Semenov Roman", "Lazarus Group", "Abu Ali", "Chang Myong Chin", "Zhang Zhiqiang"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ix.Screen(Query{Name: qs[i%len(qs)]}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Compare("Kim Chol Sam", "Jin Tiesan"); err != nil {
			b.Fatal(err)
		}
	}
}
