package web

import (
	"net/http"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// entityJSON is a listed party as the entity page shows it.
type entityJSON struct {
	ID            string             `json:"id"`
	Type          string             `json:"type"`
	Names         []string           `json:"names"`
	Programs      []string           `json:"programs"`
	Nationalities []string           `json:"nationalities"`
	Identifiers   []model.Identifier `json:"identifiers"`
	Wallets       []walletJSON       `json:"wallets"`
	Remarks       string             `json:"remarks,omitempty"`
	Source        string             `json:"source,omitempty"`
	SourceURL     string             `json:"source_url,omitempty"`
	ListedOn      string             `json:"listed_on,omitempty"`
	DelistedOn    string             `json:"delisted_on,omitempty"`
}

type walletJSON struct {
	Chain   string `json:"chain"`
	Ticker  string `json:"ticker,omitempty"`
	Address string `json:"address"`
	Indexed bool   `json:"indexed"` // on a chain the server indexed, with transfers
}

func dateStr(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func (h *Handler) entity(w http.ResponseWriter, r *http.Request) error {
	db := h.current().DB
	if db == nil {
		return errNoEngine
	}
	e, ok := db.Entity(r.PathValue("id"))
	if !ok {
		return notFound("no entity %q", r.PathValue("id"))
	}
	out := entityJSON{ID: e.ID, Type: string(e.Type), Names: []string{}, Programs: append([]string{}, e.Programs...),
		Nationalities: append([]string{}, e.Nationalities...), Identifiers: append([]model.Identifier{}, e.Identifiers...),
		Wallets: []walletJSON{}, Remarks: e.Remarks, Source: e.Source.Name, SourceURL: e.Source.URL,
		ListedOn: dateStr(e.ListedOn), DelistedOn: dateStr(e.DelistedOn)}
	for _, n := range e.Names {
		out.Names = append(out.Names, n.Full)
	}
	var indexed map[model.Chain]bool
	if h.opts.Graph != nil {
		gr := h.opts.Graph.Reader()
		defer gr.Close()
		indexed = map[model.Chain]bool{}
		for _, wl := range e.Wallets {
			if ch, ok := gr.Chain(wl.Chain); ok {
				if a, err := model.NormalizeAddress(wl.Chain, wl.Address); err == nil {
					_, indexed[wl.Chain+model.Chain(":"+a)] = ch.Lookup(a)
				}
			}
		}
	}
	for _, wl := range e.Wallets {
		a := wl.Address
		if n, err := model.NormalizeAddress(wl.Chain, a); err == nil {
			a = n
		}
		out.Wallets = append(out.Wallets, walletJSON{Chain: string(wl.Chain), Ticker: wl.Ticker, Address: a, Indexed: indexed[wl.Chain+model.Chain(":"+a)]})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
