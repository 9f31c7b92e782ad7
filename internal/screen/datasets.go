package screen

import (
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
