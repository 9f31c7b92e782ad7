package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/api"
	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/trace"
)

// TraceRequest is a trace as the UI asks for it and as cases keep it: the
// API's POST /api/v1/trace body.
type TraceRequest = trace.Params

// traceRequest bounds the seeds of a UI trace and checks the rest.
func traceRequest(b *TraceRequest) (trace.Request, error) {
	if len(b.From) == 0 || len(b.From) > 1000 {
		return trace.Request{}, badRequest("from: want 1 to 1000 addresses, not %d", len(b.From))
	}
	return b.Request()
}

func (h *Handler) caseStore() (*CaseStore, error) {
	if h.cases == nil {
		return nil, errNoEngine
	}
	return h.cases, nil
}

func caseErr(err error) error {
	if errors.Is(err, ErrNoCase) {
		return &httpError{Status: http.StatusNotFound, Msg: err.Error()}
	}
	return err
}

func (h *Handler) listCases(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.caseStore()
	if err != nil {
		return err
	}
	list, err := cs.List()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": list})
	return nil
}

func (h *Handler) createCase(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.caseStore()
	if err != nil {
		return err
	}
	var body struct {
		Title string   `json:"title"`
		Tags  []string `json:"tags"`
	}
	if err := api.DecodeJSON(r, &body); err != nil {
		return err
	}
	c, err := cs.Create(body.Title, body.Tags)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (h *Handler) getCase(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.caseStore()
	if err != nil {
		return err
	}
	c, err := cs.Get(r.PathValue("id"))
	if err != nil {
		return caseErr(err)
	}
	if r.URL.Query().Get("results") == "1" {
		for i := range c.Traces {
			if c.Traces[i].Result, err = cs.TraceResult(c.ID, c.Traces[i].ID); err != nil {
				return err
			}
		}
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// patchCase changes a case's title or tags.
func (h *Handler) patchCase(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.caseStore()
	if err != nil {
		return err
	}
	var body struct {
		Title *string   `json:"title"`
		Tags  *[]string `json:"tags"`
	}
	if err := api.DecodeJSON(r, &body); err != nil {
		return err
	}
	c, err := cs.Update(r.PathValue("id"), func(c *Case) error {
		if body.Title != nil {
			t, err := cleanText("title", *body.Title, MaxTitle, false)
			if err != nil {
				return err
			}
			if t == "" {
				return badRequest("title: empty")
			}
			c.Title = t
		}
		if body.Tags != nil {
			tags, err := cleanTags(*body.Tags)
			if err != nil {
				return err
			}
			c.Tags = tags
		}
		return nil
	})
	if err != nil {
		return caseErr(err)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *Handler) addNote(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.caseStore()
	if err != nil {
		return err
	}
	var body struct {
		Text string `json:"text"`
	}
	if err := api.DecodeJSON(r, &body); err != nil {
		return err
	}
	text, err := cleanText("text", body.Text, MaxNote, true)
	if err != nil {
		return err
	}
	if text == "" {
		return badRequest("text: empty note")
	}
	c, err := cs.Update(r.PathValue("id"), func(c *Case) error {
		if len(c.Notes) >= MaxNotes {
			return badRequest("a case holds at most %d notes", MaxNotes)
		}
		n := 1
		for _, x := range c.Notes {
			n = max(n, x.ID+1)
		}
		c.Notes = append(c.Notes, Note{ID: n, Time: time.Now().UTC().Truncate(time.Second), Text: text})
		return nil
	})
	if err != nil {
		return caseErr(err)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *Handler) addAddress(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.caseStore()
	if err != nil {
		return err
	}
	var body struct {
		Chain   string `json:"chain"`
		Address string `json:"address"`
		Comment string `json:"comment"`
	}
	if err := api.DecodeJSON(r, &body); err != nil {
		return err
	}
	chain := model.Chain(lower(body.Chain))
	if chain == "" || len(chain) > 32 {
		return badRequest("chain: want a chain name")
	}
	addr, err := model.NormalizeAddress(chain, body.Address)
	if err != nil {
		return badRequest("address: %v", err)
	}
	comment, err := cleanText("comment", body.Comment, MaxTitle, false)
	if err != nil {
		return err
	}
	c, err := cs.Update(r.PathValue("id"), func(c *Case) error {
		for _, a := range c.Addresses {
			if a.Chain == string(chain) && a.Address == addr {
				return nil
			}
		}
		if len(c.Addresses) >= MaxAddresses {
			return badRequest("a case holds at most %d addresses", MaxAddresses)
		}
		c.Addresses = append(c.Addresses, CaseAddress{Chain: string(chain), Address: addr, Added: time.Now().UTC().Truncate(time.Second), Comment: comment})
		return nil
	})
	if err != nil {
		return caseErr(err)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// addTrace runs a trace on the server and saves its result in the case,
// so the evidence is what the engine computed, not what a page sent.
func (h *Handler) addTrace(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.caseStore()
	if err != nil {
		return err
	}
	if h.opts.Graph == nil {
		return errNoEngine
	}
	var body struct {
		Title   string       `json:"title"`
		Request TraceRequest `json:"request"`
	}
	if err := api.DecodeJSON(r, &body); err != nil {
		return err
	}
	if _, err := cs.Get(r.PathValue("id")); err != nil {
		return caseErr(err)
	}
	res, err := h.runTrace(r, body.Request)
	if err != nil {
		return err
	}
	body.Request.Chain = strings.ToLower(body.Request.Chain)
	c, err := cs.AddTrace(r.PathValue("id"), body.Title, body.Request, res)
	if err != nil {
		return caseErr(err)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *Handler) runTrace(r *http.Request, tr TraceRequest) (*trace.Result, error) {
	req, err := traceRequest(&tr)
	if err != nil {
		return nil, err
	}
	gr := h.opts.Graph.Reader()
	defer gr.Close()
	eng := &trace.Engine{Graph: trace.Index(gr), Conversions: h.conversions()}
	if a := h.current().Attributor; a != nil {
		eng.Attributor = intel.WithoutInferred(a)
	}
	return eng.Run(r.Context(), req)
}
