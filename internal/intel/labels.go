package intel

import (
	"bytes"
	"encoding/json"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/redthread/redthread/internal/model"
)

const (
	etherscanSourceName = "Etherscan-family label clouds (brianleect/etherscan-labels)"
	etherscanURL        = "https://github.com/brianleect/etherscan-labels"
	fortaSourceName     = "Forta labelled datasets (Etherscan exploit, heist and phishing labels)"
	fortaURL            = "https://github.com/forta-network/labelled-datasets"
)

// explorerChains maps the explorer prefix of a label file onto its chain.
var explorerChains = map[string]model.Chain{
	"etherscan": model.ChainETH, "bscscan": ChainBSC, "polygonscan": ChainPolygon, "arbiscan": ChainArbitrum,
	"optimism": ChainOptimism, "ftmscan": ChainFantom, "avalanche": ChainAvalanche,
}

// chainIDs maps EVM chain ids (Forta's directory names) onto chains.
var chainIDs = map[string]model.Chain{
	"1": model.ChainETH, "10": ChainOptimism, "56": ChainBSC, "137": ChainPolygon, "250": ChainFantom,
	"42161": ChainArbitrum, "43114": ChainAvalanche,
}

// Label slug → category, checked in the order of labelRules (first match
// wins). Explorers' "ofac-sanctions-lists" slug is deliberately absent: only
// an authority's own list makes a claim of category sanctioned (the slug stays
// in the claim's role).
var labelRules = []struct {
	cat   model.Category
	slugs []string
}{
	{model.CatHack, []string{"heist", "exploit", "hack", "bybit-exploit"}},
	{model.CatScam, []string{"phish-hack", "phishing", "scam", "fake-phishing"}},
	{model.CatMixer, []string{"tornado-cash", "ethereum-mixer", "mixer", "blender", "sinbad", "typhoon-cash", "typhoon-network"}},
	{model.CatExchange, []string{"exchange", "binance", "huobi", "okx", "okex", "coinbase", "kraken", "kucoin", "bitfinex",
		"poloniex", "crypto-com", "gate-io", "bittrex", "gemini", "ftx", "bitstamp", "bithumb", "upbit", "bybit",
		"coinsquare", "fiat-gateway", "hotbit", "mexc", "bitmex", "htx", "binance-us", "coinone", "korbit", "bitget", "deribit"}},
	{model.CatBridge, []string{"bridge", "multichain", "wormhole", "hop-protocol", "across-protocol", "synapse", "anyswap",
		"cross-chain", "interoperability-cross-chain", "ren", "stargate", "celer-network", "orbit-bridge", "ronin"}},
	{model.CatDEX, []string{"dex", "sushiswap", "balancer", "bancor", "uniswap", "curve-fi", "kyberswap", "1inch", "0x-protocol",
		"burgerswap", "bscswap", "pancakeswap", "dydx", "tokenlon", "swipeswap", "quickswap", "trader-joe", "spookyswap", "velodrome"}},
	{model.CatOTC, []string{"otc"}},
	{model.CatGambling, []string{"gambling", "casino"}},
	{model.CatMiner, []string{"mining", "mining-pool", "miner", "mev-builder", "proposer-fee-recipient"}},
	{model.CatDeFi, []string{"defi", "aave", "compound", "loans", "lending", "yield-farming", "staking", "yearn-finance",
		"maker", "lido", "rocket-pool", "synthetix", "convex-finance", "cream-finance", "idle-finance", "vaults"}},
	{model.CatToken, []string{"token-contract", "stablecoin", "bridged-token", "meme", "deflationary-token", "token-sale",
		"binance-pegged", "bitcoin-pegged", "rebase-token", "security-token"}},
}

var slugCategory = func() map[string]int {
	m := map[string]int{}
	for i, r := range labelRules {
		for _, s := range r.slugs {
			if _, dup := m[s]; !dup {
				m[s] = i
			}
		}
	}
	return m
}()

// LabelCategory maps explorer label slugs onto the taxonomy.
func LabelCategory(slugs []string) model.Category {
	best := len(labelRules)
	for _, s := range slugs {
		if i, ok := slugCategory[strings.ToLower(s)]; ok && i < best {
			best = i
		}
	}
	if best == len(labelRules) {
		return model.CatOther
	}
	return labelRules[best].cat
}

// labelCategory is LabelCategory, falling back on the explorer's name tag
// for labels no slug classifies ("Ronin Bridge Exploiter", "Fake_Phishing").
func labelCategory(slugs []string, name string) model.Category {
	c := LabelCategory(slugs)
	if c != model.CatOther {
		return c
	}
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "exploit"), strings.Contains(n, "hacker"), strings.Contains(n, "heist"):
		return model.CatHack
	case strings.Contains(n, "phish"), strings.Contains(n, "scam"):
		return model.CatScam
	}
	return c
}

// LoadEtherscanLabels reads <explorer>_combinedAllLabels.json files
// ({"<address>": {"name": "…", "labels": ["slug", …]}}); the explorer
// prefix of the file name gives the chain.
func LoadEtherscanLabels(ins []Input, o Options) (*Dataset, error) {
	ds := &Dataset{Kind: KindEtherscanLabels}
	var names []string
	for _, in := range ins {
		names = append(names, path.Base(filepath.ToSlash(in.Name)))
	}
	ds.Source = o.source(etherscanSourceName, etherscanURL, "MIT (scraper); labels by Etherscan and sister explorers", strings.Join(names, ","))
	for _, in := range ins {
		base := path.Base(filepath.ToSlash(strings.TrimSuffix(in.Name, ".gz")))
		prefix, _, _ := strings.Cut(base, "_")
		c, ok := explorerChains[prefix]
		if !ok {
			return nil, perr(in.Name, 0, "", "file name must start with an explorer (%s)", strings.Join(mapKeys(explorerChains), ", "))
		}
		data, err := gunzip(in.Name, in.Data)
		if err != nil {
			return nil, err
		}
		src := fileSource(ds.Source, in.Name)
		var m map[string]struct {
			Name   string   `json:"name"`
			Labels []string `json:"labels"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, perr(in.Name, jsonErrLine(data, err), "", "json: %v", err)
		}
		addrs := mapKeys(m)
		for _, raw := range addrs {
			v := m[raw]
			if !strings.HasPrefix(raw, "0x") && !strings.HasPrefix(raw, "0X") {
				// Scraper artefacts ("", "genesis", "No matching records
				// found") are not addresses; they are counted, not loaded.
				ds.Skipped++
				continue
			}
			a, err := NormalizeAddress(c, raw)
			if err != nil {
				line := bytes.Count(data[:max(0, bytes.Index(data, []byte(raw)))], []byte("\n")) + 1
				return nil, perr(in.Name, line, "address", "%v", err)
			}
			label := clean(v.Name)
			if label == "" {
				label = strings.Join(v.Labels, ", ")
			}
			ds.Attributions = append(ds.Attributions, model.Attribution{Chain: c, Address: a, Label: label,
				Category: labelCategory(v.Labels, label), Role: strings.Join(v.Labels, ","), Source: src, Confidence: ConfProvider})
		}
	}
	return ds, nil
}

// LoadForta reads Forta's labelled datasets: etherscan_malicious_labels.csv,
// malicious_smart_contracts.csv and phishing_scams.csv. A parent directory
// named by an EVM chain id (1, 10, …) gives the chain; eth otherwise.
func LoadForta(ins []Input, o Options) (*Dataset, error) {
	ds := &Dataset{Kind: KindForta}
	var names []string
	for _, in := range ins {
		names = append(names, fortaName(in.Name))
	}
	ds.Source = o.source(fortaSourceName, fortaURL, "MIT (Forta Foundation); labels derive from Etherscan", strings.Join(names, ","))
	for _, in := range ins {
		c := model.ChainETH
		if dc, ok := chainIDs[path.Base(path.Dir(filepath.ToSlash(in.Name)))]; ok {
			c = dc
		}
		src := ds.Source
		src.File = fortaName(in.Name)
		head, err := csvHeader(in)
		if err != nil {
			return nil, err
		}
		add := func(line int, field, raw, label string, cat model.Category, role string) error {
			a, err := NormalizeAddress(c, raw)
			if err != nil {
				return perr(in.Name, line, field, "%v", err)
			}
			ds.Attributions = append(ds.Attributions, model.Attribution{Chain: c, Address: a, Label: clean(label),
				Category: cat, Role: role, Source: src, Confidence: ConfProvider})
			return nil
		}
		switch {
		case head["banned_address"]:
			recs, lines, err := readCSV(in, []string{"banned_address", "wallet_tag", "data_source"})
			if err != nil {
				return nil, err
			}
			for i, r := range recs {
				cat := model.CatHack
				if strings.Contains(r["data_source"], "phish") {
					cat = model.CatScam
				}
				if err := add(lines[i], "banned_address", r["banned_address"], r["wallet_tag"], cat, r["data_source"]); err != nil {
					return nil, err
				}
			}
		case head["contract_address"]:
			recs, lines, err := readCSV(in, []string{"contract_address", "contract_tag", "contract_creator", "contract_creator_tag"})
			if err != nil {
				return nil, err
			}
			for i, r := range recs {
				kind := strings.ToLower(r["contract_creator_etherscan_label"])
				cat := model.CatHack
				if strings.Contains(kind, "phish") {
					cat = model.CatScam
				}
				label := defaultStr(r["contract_tag"], defaultStr(r["contract_creator_tag"], "malicious contract"))
				if err := add(lines[i], "contract_address", r["contract_address"], label, cat, "malicious contract"); err != nil {
					return nil, err
				}
				if r["contract_creator"] != "" {
					cl := defaultStr(r["contract_creator_tag"], "creator of a malicious contract")
					if err := add(lines[i], "contract_creator", r["contract_creator"], cl, cat, "malicious contract creator"); err != nil {
						return nil, err
					}
				}
			}
		case head["etherscan_tag"]:
			recs, lines, err := readCSV(in, []string{"address", "etherscan_tag", "etherscan_labels"})
			if err != nil {
				return nil, err
			}
			for i, r := range recs {
				if err := add(lines[i], "address", r["address"], r["etherscan_tag"], model.CatScam, defaultStr(r["etherscan_labels"], "phish-hack")); err != nil {
					return nil, err
				}
			}
		default:
			return nil, perr(in.Name, 1, "", "not a Forta labelled-datasets CSV")
		}
	}
	return ds, nil
}

func fortaName(name string) string {
	p := filepath.ToSlash(name)
	dir := path.Base(path.Dir(p))
	if _, ok := chainIDs[dir]; ok {
		return dir + "/" + path.Base(p)
	}
	return path.Base(p)
}

func mapKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
