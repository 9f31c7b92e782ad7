package screen

import (
	"fmt"

	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
)

// FromDatasets collects the entities and attributions of intel datasets (as
// intel.Store.Datasets returns them) for NewIndex.
func FromDatasets(ds []*intel.Dataset) ([]model.Entity, []model.Attribution) {
	var ents []model.Entity
	var attrs []model.Attribution
	for _, d := range ds {
		ents = append(ents, d.Entities...)
		attrs = append(attrs, d.Attributions...)
	}
	return ents, attrs
}

// OpenIndex builds an index over everything an intel store holds (shipped
// packs, refreshed official lists, the user's loads): what the CLI and the
// API server screen against.
func OpenIndex(st *intel.Store, o Options) (*Index, error) {
	ds, err := st.Datasets()
	if err != nil {
		return nil, fmt.Errorf("load intel: %w", err)
	}
	ents, attrs := FromDatasets(ds)
	return NewIndex(ents, attrs, o), nil
}
