package lualib

import (
	"strings"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/internal/redistest"
)

// TestLoadAgainstRedis loads every case into a real Redis 7.0 with FUNCTION
// LOAD and checks that Load accepts exactly what the server accepts.
func TestLoadAgainstRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := srv.Client(t)
	for _, tc := range libraryCases {
		code := "#!lua name=lib\n" + tc.body
		if _, err := c.Do("FUNCTION", "FLUSH"); err != nil {
			t.Fatal(err)
		}
		_, redisErr := c.Do("FUNCTION", "LOAD", code)
		_, ourErr := Load([]byte(code), Options{Timeout: 200 * time.Millisecond})
		if (redisErr == nil) != (ourErr == nil) {
			t.Errorf("%s\nRedis: %v\nLoad: %v", tc.body, redisErr, ourErr)
		}
		if redisErr != nil && !strings.Contains(redisErr.Error(), tc.refusal) {
			t.Errorf("%s\nRedis now says %q, the table %q", tc.body, redisErr, tc.refusal)
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, c := range libraryCases {
		if !strings.Contains(c.body, "while true") {
			f.Add("#!lua name=lib\n" + c.body)
		}
	}
	f.Fuzz(func(t *testing.T, code string) {
		lib, err := Load([]byte(code), Options{Timeout: 50 * time.Millisecond, MaxStringBytes: 1 << 20})
		if err == nil && (len(lib.Functions) == 0 || !ValidName(lib.Name)) {
			t.Fatalf("accepted %q without functions or with a bad name", code)
		}
	})
}
