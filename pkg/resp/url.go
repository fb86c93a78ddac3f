package resp

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// URL is a parsed redis:// or rediss:// address:
//
//	redis[s]://[[user][:password]@]host[:port][/db][?option=value&...]
//
// The options are the TLS settings, for commands that take no flags for
// them: tls-ca, tls-cert, tls-key (file names), tls-server-name, and
// tls-insecure=yes (no certificate check). TLS file names are kept as they
// are; the caller loads them.
type URL struct {
	TLS      bool
	Host     string // without brackets for IPv6
	Port     int    // 6379 when absent
	Username string // "" means the default user
	Password string
	HasAuth  bool // a password was given (it may be empty)
	DB       int
	HasDB    bool // a /db path was given

	TLSCA, TLSCert, TLSKey, TLSServerName string
	TLSInsecure                           bool
}

// DefaultPort is the port of a URL that names none.
const DefaultPort = 6379

// ParseURL parses s. A bare "host:port" is taken as redis://host:port.
func ParseURL(s string) (URL, error) {
	var u URL
	if !strings.Contains(s, "://") {
		s = "redis://" + s
	}
	p, err := url.Parse(s)
	if err != nil {
		return u, fmt.Errorf("bad URL: %w", err)
	}
	switch p.Scheme {
	case "redis":
	case "rediss":
		u.TLS = true
	default:
		return u, fmt.Errorf("bad URL %q: the scheme must be redis:// or rediss://", redactURL(s))
	}
	if p.Opaque != "" {
		return u, fmt.Errorf("bad URL %q: write redis://host:port", redactURL(s))
	}
	u.Host = p.Hostname()
	if u.Host == "" {
		return u, fmt.Errorf("bad URL %q: no host", redactURL(s))
	}
	u.Port = DefaultPort
	if ps := p.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return u, fmt.Errorf("bad URL %q: port %q", redactURL(s), ps)
		}
		u.Port = n
	}
	if p.User != nil {
		u.Username = p.User.Username()
		u.Password, u.HasAuth = p.User.Password()
		if !u.HasAuth && u.Username != "" {
			// redis://secret@host is the password alone, as redis-cli -u reads it.
			u.Password, u.Username, u.HasAuth = u.Username, "", true
		}
	}
	if path := strings.Trim(p.Path, "/"); path != "" {
		n, err := strconv.Atoi(path)
		if err != nil || n < 0 {
			return u, fmt.Errorf("bad URL %q: the path is a database number, not %q", redactURL(s), path)
		}
		u.DB, u.HasDB = n, true
	}
	for name, vals := range p.Query() {
		v := vals[len(vals)-1]
		switch name {
		case "tls-ca":
			u.TLSCA = v
		case "tls-cert":
			u.TLSCert = v
		case "tls-key":
			u.TLSKey = v
		case "tls-server-name":
			u.TLSServerName = v
		case "tls-insecure":
			switch strings.ToLower(v) {
			case "", "1", "yes", "true":
				u.TLSInsecure = true
			case "0", "no", "false":
			default:
				return u, fmt.Errorf("bad URL: tls-insecure=%q (want yes or no)", v)
			}
		default:
			return u, fmt.Errorf("bad URL: unknown option %q (known: tls-ca, tls-cert, tls-key, tls-server-name, tls-insecure)", name)
		}
	}
	if (u.TLSCA != "" || u.TLSCert != "" || u.TLSKey != "" || u.TLSServerName != "" || u.TLSInsecure) && !u.TLS {
		return u, fmt.Errorf("bad URL: TLS options need rediss://")
	}
	return u, nil
}

// Addr is "host:port".
func (u URL) Addr() string { return net.JoinHostPort(u.Host, strconv.Itoa(u.Port)) }

// String renders the URL for messages: the password is never shown.
func (u URL) String() string {
	var b strings.Builder
	b.WriteString("redis://")
	if u.TLS {
		b.Reset()
		b.WriteString("rediss://")
	}
	if u.Username != "" || u.HasAuth {
		b.WriteString(url.PathEscape(u.Username))
		if u.HasAuth {
			b.WriteString(":***")
		}
		b.WriteByte('@')
	}
	b.WriteString(u.Addr())
	if u.HasDB {
		b.WriteString("/" + strconv.Itoa(u.DB))
	}
	return b.String()
}

// WithAddr is the URL for another node of the same deployment: same
// credentials and TLS settings, no database.
func (u URL) WithAddr(addr string) (URL, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return u, err
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return u, fmt.Errorf("bad port in %q", addr)
	}
	u.Host, u.Port, u.DB, u.HasDB = host, n, 0, false
	return u, nil
}

// redactURL hides a password in a URL that did not parse.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return s
	}
	user := rest[:at]
	if name, _, hasPass := strings.Cut(user, ":"); hasPass {
		user = name + ":***"
	} else {
		user = "***"
	}
	return scheme + "://" + user + rest[at:]
}

// LooksLikeURL reports whether s is meant as a server address rather than a
// file name: it starts with redis:// or rediss://.
func LooksLikeURL(s string) bool {
	return strings.HasPrefix(s, "redis://") || strings.HasPrefix(s, "rediss://")
}
