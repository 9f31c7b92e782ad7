package importer

import (
	"sort"
)

// preparer opens the files of one import once its side files are loaded.
type preparer interface {
	// sideFiles are the joined files whose identity is part of each main
	// file's checkpoint name.
	sideFiles() []string
	open(path string, offset, line int64) (Source, error)
}

type format struct {
	summary string
	prepare func(o *Options) (preparer, error)
}

var formats = map[string]format{
	"transfers":           {"redthread's generic transfers CSV (" + TransfersHeader + ")", prepareTransfers},
	"etl-transactions":    {"ethereum-etl transactions (native value); join receipts with --receipts", prepareETL("transactions")},
	"etl-receipts":        {"ethereum-etl receipts joined to --transactions (same result as etl-transactions --receipts)", prepareETL("receipts")},
	"etl-token-transfers": {"ethereum-etl token_transfers; transaction indexes from --transactions (or --receipts)", prepareETL("token_transfers")},
	"etherscan-normal":    {"Etherscan CSV download of an address's transactions (Value_IN/Value_OUT in ETH)", prepareEtherscan(escanNormal)},
	"etherscan-internal":  {"Etherscan CSV download of an address's internal transactions", prepareEtherscan(escanInternal)},
	"etherscan-token":     {"Etherscan CSV download of ERC-20 token transfers; decimals from --token or --decimals", prepareEtherscan(escanToken)},
	"etl-traces":          {"ethereum-etl traces (internal value, rewards); block times from the rows, --transactions or --blocks", prepareETL("traces")},
}

// Formats lists the import format names.
func Formats() []string {
	var names []string
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FormatSummary describes a format in one line.
func FormatSummary(name string) string { return formats[name].summary }

type transfersPrep struct{ o *Options }

func prepareTransfers(o *Options) (preparer, error) { return transfersPrep{o}, nil }

func (transfersPrep) sideFiles() []string { return nil }

func (p transfersPrep) open(path string, offset, line int64) (Source, error) {
	tp := &transfersParser{file: path, chain: p.o.explicitChain}
	return openSource(path, tp, false, p.o.BatchTransfers, offset, line)
}
