package convert

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// checkJSONText rejects what encoding/json would accept by changing the
// data silently: text that is not UTF-8 and lone UTF-16 surrogates (both
// decode as U+FFFD), and an object with the same member twice (the last one
// wins). rdbtool never writes any of them; a hand-edited file may hold
// them, and a silent change would write keys or values nobody asked for.
// It only looks at the text: json.Unmarshal judges the syntax afterwards.
func checkJSONText(text []byte) error {
	if !utf8.Valid(text) {
		return fmt.Errorf("not valid UTF-8 text (write binary strings as {\"base64\":...})")
	}
	type object struct {
		members   map[string]bool
		expectKey bool
	}
	var stack []*object // nil entries are arrays
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '{':
			stack = append(stack, &object{members: map[string]bool{}, expectKey: true})
		case '[':
			stack = append(stack, nil)
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1] != nil {
				stack[n-1].expectKey = true
			}
		case ':':
			if n := len(stack); n > 0 && stack[n-1] != nil {
				stack[n-1].expectKey = false
			}
		case '"':
			end, escaped, err := scanJSONString(text, i)
			if err != nil {
				return err
			}
			if n := len(stack); n > 0 && stack[n-1] != nil && stack[n-1].expectKey {
				name := string(text[i+1 : end])
				if escaped {
					var s string
					if json.Unmarshal(text[i:end+1], &s) == nil {
						name = s
					}
				}
				if stack[n-1].members[name] {
					return fmt.Errorf("member %s appears twice in one object (column %d)", strconv.Quote(name), i+1)
				}
				stack[n-1].members[name] = true
			}
			i = end
		}
	}
	return nil
}

// scanJSONString finds the closing quote of the string that opens at
// text[start], checking that every \u escape of a UTF-16 surrogate is one
// half of a pair.
func scanJSONString(text []byte, start int) (end int, escaped bool, err error) {
	for i := start + 1; i < len(text); i++ {
		switch text[i] {
		case '"':
			return i, escaped, nil
		case '\\':
			escaped = true
			if i+1 < len(text) && text[i+1] == 'u' {
				r, ok := hex4(text, i+2)
				switch {
				case ok && r >= 0xD800 && r < 0xDC00:
					low, ok2 := rune(0), false
					if i+7 < len(text) && text[i+6] == '\\' && text[i+7] == 'u' {
						low, ok2 = hex4(text, i+8)
					}
					if !ok2 || low < 0xDC00 || low > 0xDFFF {
						return 0, false, fmt.Errorf("lone UTF-16 surrogate \\u%04X at column %d: not a character", r, i+1)
					}
					i += 11
					continue
				case ok && r >= 0xDC00 && r <= 0xDFFF:
					return 0, false, fmt.Errorf("lone UTF-16 surrogate \\u%04X at column %d: not a character", r, i+1)
				}
			}
			i++ // the escaped byte
		}
	}
	return len(text), escaped, nil // unterminated: json.Unmarshal says so
}

func hex4(text []byte, at int) (rune, bool) {
	if at+4 > len(text) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(text[at:at+4]), 16, 16)
	return rune(v), err == nil
}
