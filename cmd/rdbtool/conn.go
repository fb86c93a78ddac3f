package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/rdbtool/rdbtool/pkg/resp"
	"github.com/urfave/cli/v2"
)

// Connecting to live servers: the URL, credentials and TLS settings shared by
// restore, pull and split.

const urlHelp = `URL is redis://[user[:password]@]host[:port][/db], or rediss:// for TLS. A
password left out of the URL is taken from the REDISCLI_AUTH environment
variable, as redis-cli does, so that it does not show in the process list.
TLS settings come from the --tls-* options or from the URL's query
(?tls-ca=ca.pem&tls-server-name=redis.internal).`

func tlsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tls-ca", Usage: "with rediss://: trust the certificate authorities in `FILE` (PEM) instead of the system's"},
		&cli.StringFlag{Name: "tls-cert", Usage: "with rediss://: client certificate `FILE` (PEM), for servers with tls-auth-clients"},
		&cli.StringFlag{Name: "tls-key", Usage: "with rediss://: the client certificate's private key `FILE` (PEM)"},
		&cli.StringFlag{Name: "tls-server-name", Usage: "with rediss://: the `NAME` the server's certificate must carry (default: the host)"},
		&cli.BoolFlag{Name: "tls-insecure", Usage: "with rediss://: do not check the server's certificate (encrypts, but trusts anyone)"},
	}
}

// server is a parsed URL with its TLS configuration, ready to dial.
type server struct {
	url resp.URL
	tls *tls.Config
}

// parseServer reads a URL and the TLS flags of c (nil for commands without
// them, such as verify, which take TLS settings from the URL only).
func parseServer(c *cli.Context, raw string) (server, error) {
	cmd := ""
	if c != nil && c.Command != nil {
		cmd = c.Command.Name
	}
	u, err := resp.ParseURL(raw)
	if err != nil {
		return server{}, usagef(cmd, "%v", err)
	}
	if !u.HasAuth {
		if pw, ok := os.LookupEnv("REDISCLI_AUTH"); ok {
			u.Password, u.HasAuth = pw, true
		}
	}
	if c != nil {
		for _, f := range []struct {
			name string
			dst  *string
		}{{"tls-ca", &u.TLSCA}, {"tls-cert", &u.TLSCert}, {"tls-key", &u.TLSKey}, {"tls-server-name", &u.TLSServerName}} {
			if v := c.String(f.name); v != "" {
				*f.dst = v
			}
		}
		if c.Bool("tls-insecure") {
			u.TLSInsecure = true
		}
	}
	s := server{url: u}
	if !u.TLS {
		if u.TLSCA != "" || u.TLSCert != "" || u.TLSKey != "" || u.TLSServerName != "" || u.TLSInsecure {
			return s, usagef(cmd, "the --tls-* options go with a rediss:// URL")
		}
		return s, nil
	}
	cfg := &tls.Config{ServerName: u.TLSServerName, InsecureSkipVerify: u.TLSInsecure, MinVersion: tls.VersionTLS12}
	if u.TLSCA != "" {
		pem, err := os.ReadFile(u.TLSCA)
		if err != nil {
			return s, fmt.Errorf("reading the CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return s, usagef(cmd, "%s holds no PEM certificate", u.TLSCA)
		}
		cfg.RootCAs = pool
	}
	if (u.TLSCert == "") != (u.TLSKey == "") {
		return s, usagef(cmd, "--tls-cert and --tls-key go together")
	}
	if u.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(u.TLSCert, u.TLSKey)
		if err != nil {
			return s, fmt.Errorf("loading the client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	s.tls = cfg
	return s, nil
}

// options are the connection options for addr ("" means the URL's own
// address, with its database).
func (s server) options(addr string) resp.Options {
	o := resp.OptionsFromURL(s.url, s.tls)
	if addr != "" && addr != o.Addr {
		o.Addr, o.DB = addr, 0
	}
	return o
}

// dial connects to addr ("" for the URL's address and database).
func (s server) dial(ctx context.Context, addr string) (*resp.Conn, error) {
	return resp.Dial(ctx, s.options(addr))
}

// dialDB0 connects to addr on database 0, as the restore pipelines want.
func (s server) dialDB0(ctx context.Context, addr string) (*resp.Conn, error) {
	o := s.options(addr)
	o.DB = 0
	return resp.Dial(ctx, o)
}
