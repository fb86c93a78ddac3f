package persist

import "strconv"

// QuoteBytes renders a key or an argument for messages: Go-quoted, shortened
// when long, so that binary keys stay readable and a huge key does not flood
// a terminal.
func QuoteBytes(b []byte) string {
	const max = 80
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..." + strconv.Itoa(len(b)) + " bytes"
	}
	return strconv.Quote(string(b))
}
