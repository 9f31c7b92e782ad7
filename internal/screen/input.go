package screen

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxQueryBytes caps the length of a query string.
const MaxQueryBytes = 512

// MaxTokens caps the number of words of a name that are matched.
const MaxTokens = 24

// Input errors. Every query error wraps one of these.
var (
	ErrEmpty       = errors.New("empty name")
	ErrTooLong     = fmt.Errorf("name longer than %d bytes", MaxQueryBytes)
	ErrInvalidUTF8 = errors.New("name is not valid UTF-8")
	ErrControl     = errors.New("name contains a control character")
	ErrBatchSize   = errors.New("too many queries in one batch")
)

// checkInput validates a raw query string before normalization.
func checkInput(s string) error {
	if len(s) > MaxQueryBytes {
		return fmt.Errorf("%w (%d bytes)", ErrTooLong, len(s))
	}
	if !utf8.ValidString(s) {
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				return fmt.Errorf("%w (byte offset %d)", ErrInvalidUTF8, i)
			}
			i += n
		}
	}
	for i, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			return fmt.Errorf("%w U+%04X at byte offset %d", ErrControl, r, i)
		}
	}
	return nil
}
