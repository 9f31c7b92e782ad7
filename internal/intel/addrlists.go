package intel

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/redthread/redthread/internal/model"
)

const (
	b10cSourceName = "OFAC SDN digital currency addresses (0xB10C extraction of SDN_ADVANCED.XML)"
	b10cURL        = "https://github.com/0xB10C/ofac-sanctioned-digital-currency-addresses"
	ultrasoundName = "OFAC SDN Ethereum addresses (ultrasoundmoney extraction of SDN_ENHANCED.XML)"
	ultrasoundURL  = "https://github.com/ultrasoundmoney/ofac-ethereum-addresses"
)

var tickerFile = regexp.MustCompile(`(?i)sanctioned_addresses_([A-Z0-9]+)\.(json|txt)$`)

// LoadOFACAddresses reads per-ticker lists of OFAC-sanctioned addresses
// (sanctioned_addresses_<TICKER>.json, a JSON array of strings, or .txt, one
// address a line). Every address becomes a sanctioned attribution. The
// snapshot is complete for the chain of each native-coin file loaded (ETH →
// eth, XBT → btc, …); token files (USDT, USDC) add addresses but not
// completeness.
func LoadOFACAddresses(ins []Input, o Options) (*Dataset, error) {
	ds := &Dataset{Kind: KindOFACAddresses, List: ListOFACDigitalCurrency}
	var names []string
	for _, in := range ins {
		names = append(names, path.Base(filepath.ToSlash(in.Name)))
	}
	ds.Source = o.source(b10cSourceName, b10cURL, "MIT (list tooling); data: US government work", strings.Join(names, ","))
	type key struct {
		c model.Chain
		a string
	}
	tickers := map[key][]string{}
	files := map[key]string{}
	var order []key
	covers := map[model.Chain]bool{}
	for _, in := range ins {
		m := tickerFile.FindStringSubmatch(strings.TrimSuffix(in.Name, ".gz"))
		if m == nil {
			return nil, perr(in.Name, 0, "", "file name is not sanctioned_addresses_<TICKER>.json or .txt")
		}
		ticker := strings.ToUpper(m[1])
		data, err := gunzip(in.Name, in.Data)
		if err != nil {
			return nil, err
		}
		var addrs []string
		var lines []int
		if strings.EqualFold(m[2], "json") {
			if err := json.Unmarshal(data, &addrs); err != nil {
				return nil, perr(in.Name, jsonErrLine(data, err), "", "json: %v", err)
			}
			for range addrs {
				lines = append(lines, 0)
			}
		} else {
			sc := bufio.NewScanner(bytes.NewReader(data))
			n := 0
			for sc.Scan() {
				n++
				if s := strings.TrimSpace(sc.Text()); s != "" {
					addrs = append(addrs, s)
					lines = append(lines, n)
				}
			}
			if err := sc.Err(); err != nil {
				return nil, perr(in.Name, n, "", "read: %v", err)
			}
		}
		if c, ok := tickerChains[ticker]; ok {
			covers[c] = true
		}
		for i, a := range addrs {
			c, err := chainForTicker(ticker, a)
			if err != nil {
				return nil, perr(in.Name, lines[i], "address", "%v", err)
			}
			na, err := NormalizeAddress(c, a)
			if err != nil {
				return nil, perr(in.Name, lines[i], "address", "%v", err)
			}
			k := key{c, na}
			if _, seen := tickers[k]; !seen {
				order = append(order, k)
				files[k] = in.Name
			}
			tickers[k] = appendUniq(tickers[k], ticker)
		}
	}
	for _, k := range order {
		ds.Attributions = append(ds.Attributions, model.Attribution{Chain: k.c, Address: k.a,
			Category: model.CatSanctioned, Role: "listed " + strings.Join(tickers[k], ", ") + " address",
			Source: fileSource(ds.Source, files[k]), Confidence: 100})
	}
	ds.Covers = sortedChains(covers)
	return ds, nil
}

// LoadOFACETHCSV reads an "address,name" CSV of OFAC-listed Ethereum
// addresses with the SDN entry's primary name. The snapshot is complete for
// eth.
func LoadOFACETHCSV(in Input, o Options) (*Dataset, error) {
	recs, lines, err := readCSV(in, []string{"address", "name"})
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Kind: KindOFACETHCSV, List: ListOFACDigitalCurrency, Covers: []model.Chain{model.ChainETH}}
	ds.Source = o.source(ultrasoundName, ultrasoundURL, "MIT (list tooling); data: US government work", path.Base(filepath.ToSlash(in.Name)))
	seen := map[string]bool{}
	for i, r := range recs {
		a, err := NormalizeAddress(model.ChainETH, r["address"])
		if err != nil {
			return nil, perr(in.Name, lines[i], "address", "%v", err)
		}
		name := clean(r["name"])
		if name == "" {
			return nil, perr(in.Name, lines[i], "name", "empty")
		}
		if seen[a] {
			continue
		}
		seen[a] = true
		ds.Attributions = append(ds.Attributions, model.Attribution{Chain: model.ChainETH, Address: a, Label: name,
			Category: model.CatSanctioned, Role: "listed ETH address", Source: ds.Source, Confidence: 100})
	}
	return ds, nil
}

// LoadDelistings reads redthread's CSV of known official delistings:
// list,chain,address,entity,delisted_on,source_name,source_url.
func LoadDelistings(in Input, o Options) (*Dataset, error) {
	recs, lines, err := readCSV(in, []string{"list", "chain", "address", "entity", "delisted_on", "source_name", "source_url"})
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Kind: KindDelistings}
	ds.Source = o.source("redthread known delistings", "", "", path.Base(filepath.ToSlash(in.Name)))
	for i, r := range recs {
		c := model.Chain(strings.TrimSpace(r["chain"]))
		if !KnownChain(c) {
			return nil, perr(in.Name, lines[i], "chain", "unknown chain %q", r["chain"])
		}
		a, err := NormalizeAddress(c, r["address"])
		if err != nil {
			return nil, perr(in.Name, lines[i], "address", "%v", err)
		}
		on, err := day(r["delisted_on"])
		if err != nil {
			return nil, perr(in.Name, lines[i], "delisted_on", "bad date %q", r["delisted_on"])
		}
		if r["list"] == "" || r["source_url"] == "" {
			return nil, perr(in.Name, lines[i], "list", "list and source_url are required")
		}
		ds.Delistings = append(ds.Delistings, Delisting{List: r["list"], Chain: c, Address: a, Entity: r["entity"], On: on,
			Source: model.Source{Name: r["source_name"], URL: r["source_url"], Published: on, File: ds.Source.File}})
	}
	return ds, nil
}

// readCSV reads a CSV file with a header row that must hold the wanted
// columns (others are allowed), as maps from column to value.
func readCSV(in Input, want []string) ([]map[string]string, []int, error) {
	data, err := gunzip(in.Name, in.Data)
	if err != nil {
		return nil, nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 0
	head, err := r.Read()
	if err != nil {
		return nil, nil, csvErr(in.Name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	for _, w := range want {
		if _, ok := col[w]; !ok {
			return nil, nil, perr(in.Name, 1, w, "missing column (header is %q)", strings.Join(head, ","))
		}
	}
	var out []map[string]string
	var lines []int
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, csvErr(in.Name, err)
		}
		line, _ := r.FieldPos(0)
		m := make(map[string]string, len(col))
		for name, i := range col {
			m[name] = strings.TrimSpace(rec[i])
		}
		out = append(out, m)
		lines = append(lines, line)
	}
	return out, lines, nil
}

func csvErr(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return perr(file, pe.StartLine, "column "+itoa(pe.Column), "csv: %v", pe.Err)
	}
	return perr(file, 0, "", "csv: %v", err)
}

func jsonErrLine(data []byte, err error) int {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	if errors.As(err, &se) {
		off = se.Offset
	} else if errors.As(err, &te) {
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return 0
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func sortedChains(m map[model.Chain]bool) []model.Chain {
	out := make([]model.Chain, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
