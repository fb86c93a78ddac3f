package resp

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want URL
		err  string
	}{
		{in: "redis://127.0.0.1:7000", want: URL{Host: "127.0.0.1", Port: 7000}},
		{in: "localhost", want: URL{Host: "localhost", Port: 6379}},
		{in: "10.0.0.5:6380", want: URL{Host: "10.0.0.5", Port: 6380}},
		{in: "redis://:secret@h/3", want: URL{Host: "h", Port: 6379, Password: "secret", HasAuth: true, DB: 3, HasDB: true}},
		{in: "redis://secret@h", want: URL{Host: "h", Port: 6379, Password: "secret", HasAuth: true}},
		{in: "redis://app:p%40ss@h:1", want: URL{Host: "h", Port: 1, Username: "app", Password: "p@ss", HasAuth: true}},
		{in: "rediss://[::1]:6380?tls-ca=ca.pem&tls-server-name=r", want: URL{TLS: true, Host: "::1", Port: 6380, TLSCA: "ca.pem", TLSServerName: "r"}},
		{in: "rediss://h?tls-insecure=yes", want: URL{TLS: true, Host: "h", Port: 6379, TLSInsecure: true}},
		{in: "http://h", err: "scheme"},
		{in: "redis://h:0", err: "port"},
		{in: "redis://h/x", err: "database number"},
		{in: "redis://h?tls-ca=x", err: "need rediss"},
		{in: "redis://h?timeout=1", err: "unknown option"},
		{in: "redis://user:hunter2@h:99999", err: "port"},
	} {
		got, err := ParseURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURL(%q): error %v, want one about %q", tc.in, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("ParseURL(%q): the error shows the password: %v", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestURLString(t *testing.T) {
	u, _ := ParseURL("rediss://app:secret@h:7/2")
	if s := u.String(); s != "rediss://app:***@h:7/2" {
		t.Errorf("String = %q", s)
	}
	n, err := u.WithAddr("10.1.1.1:7001")
	if err != nil || n.Addr() != "10.1.1.1:7001" || n.HasDB || n.Password != "secret" || !n.TLS {
		t.Errorf("WithAddr = %+v, %v", n, err)
	}
}

func ExampleParseURL() {
	u, err := ParseURL("rediss://backup:secret@cache.internal:6380/2?tls-ca=/etc/ca.pem")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Addr(), u.Username, u.DB, u.TLSCA)
	fmt.Println(u) // the password is never shown
	// Output:
	// cache.internal:6380 backup 2 /etc/ca.pem
	// rediss://backup:***@cache.internal:6380/2
}
