package screen

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// token is one word of a normalized name: lower-case ASCII letters and
// digits, or a single Han character.
type token struct {
	text   string
	hangul bool // romanized from one Hangul syllable
	han    bool // a Han character, kept as is
	family bool // stands in the family-name position ("LAST, First")
}

// letterFold maps letters that NFKD does not decompose to ASCII.
var letterFold = map[rune]string{
	'ø': "o", 'æ': "ae", 'œ': "oe", 'ß': "ss", 'ł': "l", 'đ': "d", 'ð': "d",
	'ı': "i", 'þ': "th", 'ħ': "h", 'ŋ': "ng",
}

// isMarkSep reports apostrophe-like runes; in romanized Korean and Wade–Giles
// they mark aspiration or vowel quality and are dropped inside words.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', '`', 'ʼ', 'ʻ', '´', 'ʹ', '′':
		return true
	}
	return false
}

// normalized is a name cut into tokens, with notes on what normalization did.
type normalized struct {
	tokens []token
	notes  []string
}

// normalizeName checks and normalizes a raw name. company says whether
// legal-form words may be dropped (nil: decide from the words).
func normalizeName(s string, kind nameKind) (normalized, error) {
	var out normalized
	if err := checkInput(s); err != nil {
		return out, err
	}
	var cur strings.Builder
	commaAt := -1
	commas := 0
	flush := func() {
		if cur.Len() > 0 {
			out.tokens = append(out.tokens, token{text: cur.String()})
			cur.Reset()
		}
	}
	hangul := false
	var buf [8]byte
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				cur.WriteByte(byte(r))
			case r >= 'A' && r <= 'Z':
				cur.WriteByte(byte(r + 'a' - 'A'))
			case r == '\'' || r == '`':
				// aspiration mark: join
			case r == ',':
				flush()
				commas++
				commaAt = len(out.tokens)
			default:
				flush()
			}
		case r >= 0xAC00 && r <= 0xD7A3:
			flush()
			out.tokens = append(out.tokens, token{text: romanizeHangul(r), hangul: true})
			hangul = true
		case unicode.Is(unicode.Han, r):
			flush()
			out.tokens = append(out.tokens, token{text: string(r), han: true})
		case isApostrophe(r):
		case r == '，' || r == '、':
			flush()
			commas++
			commaAt = len(out.tokens)
		default:
			lr := unicode.ToLower(r)
			if f, ok := letterFold[lr]; ok {
				cur.WriteString(f)
				continue
			}
			n := utf8.EncodeRune(buf[:], lr)
			d := norm.NFKD.Bytes(buf[:n])
			wrote := false
			for len(d) > 0 {
				dr, size := utf8.DecodeRune(d)
				d = d[size:]
				if unicode.Is(unicode.Mn, dr) {
					continue
				}
				dr = unicode.ToLower(dr)
				if f, ok := letterFold[dr]; ok {
					cur.WriteString(f)
					wrote = true
				} else if unicode.IsLetter(dr) || unicode.IsDigit(dr) {
					cur.WriteRune(dr)
					wrote = true
				} else if !wrote {
					flush()
				}
			}
		}
		if len(out.tokens) > MaxTokens {
			break
		}
	}
	flush()
	if hangul {
		out.notes = append(out.notes, "Hangul romanized (Revised Romanization)")
	}
	if len(out.tokens) > MaxTokens {
		out.tokens = out.tokens[:MaxTokens]
		out.notes = append(out.notes, fmt.Sprintf("only the first %d words are matched", MaxTokens))
	}
	// "LAST, First": the words before the comma are the family name.
	if commas == 1 && commaAt > 0 && commaAt < len(out.tokens) && kind != kindCompany {
		rest := out.tokens[commaAt:]
		if !allLegalForms(rest) {
			for i := 0; i < commaAt; i++ {
				out.tokens[i].family = true
			}
			out.notes = append(out.notes, `"LAST, First" order read`)
		}
	}
	if kind != kindPerson {
		out.tokens = stripLegalForms(out.tokens, &out.notes)
	}
	if len(out.tokens) == 0 {
		return out, ErrEmpty
	}
	return out, nil
}

// nameKind says what sort of party a name belongs to, if known.
type nameKind uint8

const (
	kindAny nameKind = iota
	kindPerson
	kindCompany
)

// legalForms are company legal-form words dropped at the ends of a name.
var legalForms = map[string]bool{
	"co": true, "corp": true, "corporation": true, "company": true, "ltd": true, "limited": true,
	"llc": true, "inc": true, "incorporated": true, "jsc": true, "ojsc": true, "cjsc": true,
	"pjsc": true, "gmbh": true, "ag": true, "sa": true, "sarl": true, "srl": true, "spa": true,
	"bv": true, "nv": true, "plc": true, "llp": true, "lp": true, "pte": true, "pty": true,
	"pvt": true, "kft": true, "sdn": true, "bhd": true, "fze": true, "fzco": true, "fzc": true,
	"ltda": true, "ooo": true, "zao": true, "oao": true, "pao": true, "tov": true, "dmcc": true,
	"fzllc": true, "lc": true, "sl": true, "as": true, "ab": true, "oy": true, "kk": true,
}

// legalPhrases are multi-word legal forms (their last word is in legalForms).
var legalPhrases = [][]string{
	{"joint", "stock", "company"}, {"limited", "liability", "company"},
	{"public", "joint", "stock", "company"}, {"closed", "joint", "stock", "company"},
	{"open", "joint", "stock", "company"}, {"limited", "liability", "partnership"},
	{"private", "limited"}, {"public", "limited", "company"},
	{"s", "a", "de", "c", "v"}, {"sa", "de", "cv"}, {"s", "de", "r", "l", "de", "c", "v"}, {"s", "de", "rl", "de", "cv"},
	{"s", "a"}, {"s", "l"}, {"s", "r", "l"}, {"s", "p", "a"}, {"b", "v"}, {"n", "v"}, {"c", "a"}, {"l", "l", "c"},
	{"co", "ltd"}, {"pte", "ltd"}, {"pvt", "ltd"}, {"sdn", "bhd"},
}

func allLegalForms(ts []token) bool {
	for _, t := range ts {
		if !legalForms[t.text] {
			return false
		}
	}
	return true
}

// stripLegalForms drops legal-form words from the end and the start of a
// name, keeping at least one word.
func stripLegalForms(ts []token, notes *[]string) []token {
	var dropped []string
	for len(ts) > 1 {
		n := 0
		for _, p := range legalPhrases {
			if len(p) < len(ts) && hasSuffix(ts, p) && len(p) > n {
				n = len(p)
			}
		}
		if n == 0 && legalForms[ts[len(ts)-1].text] {
			n = 1
		}
		if n == 0 {
			break
		}
		for _, t := range ts[len(ts)-n:] {
			dropped = append(dropped, t.text)
		}
		ts = ts[:len(ts)-n]
	}
	for len(ts) > 1 {
		switch ts[0].text {
		case "ooo", "zao", "oao", "pao", "jsc", "ojsc", "cjsc", "pjsc", "llc", "tov":
			dropped = append(dropped, ts[0].text)
			ts = ts[1:]
			continue
		}
		break
	}
	if len(dropped) > 0 {
		*notes = append(*notes, "legal form dropped: "+strings.Join(dropped, " "))
	}
	return ts
}

func hasSuffix(ts []token, p []string) bool {
	off := len(ts) - len(p)
	for i, w := range p {
		if ts[off+i].text != w {
			return false
		}
	}
	return true
}

// Hangul jamo romanization (Revised Romanization, one syllable at a time).
var (
	hangulInitials = [19]string{"g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"}
	hangulMedials  = [21]string{"a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi", "yu", "eu", "ui", "i"}
	hangulFinals   = [28]string{"", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t"}
)

// romanizeHangul romanizes one precomposed Hangul syllable by decomposing it
// arithmetically into initial, medial and final jamo.
func romanizeHangul(r rune) string {
	i := int(r - 0xAC00)
	l, v, t := i/(21*28), (i%(21*28))/28, i%28
	ini := hangulInitials[l]
	if l == 5 { // ㄹ at the start of a syllable
		ini = "r"
	}
	return ini + hangulMedials[v] + hangulFinals[t]
}
