package main

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/httpapi"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// cutter is a TCP proxy to the database that the test can cut: Cut closes
// its listener and every connection through it (the database has gone
// away), Restore listens again on the same address.
type cutter struct {
	t        *testing.T
	addr     string
	upstream string
	mu       sync.Mutex
	ln       net.Listener
	conns    []net.Conn
	hole     bool // accept connections and never answer (a hung database)
}

func newCutter(t *testing.T, upstream string) *cutter {
	c := &cutter{t: t, upstream: upstream}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = ln.Addr().String()
	c.serve(ln)
	t.Cleanup(c.Cut)
	return c
}

func (c *cutter) serve(ln net.Listener) {
	c.mu.Lock()
	c.ln = ln
	c.mu.Unlock()
	go func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			hole := c.hole
			c.mu.Unlock()
			if hole {
				c.mu.Lock()
				c.conns = append(c.conns, down)
				c.mu.Unlock()
				continue
			}
			up, err := net.Dial("tcp", c.upstream)
			if err != nil {
				_ = down.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, down, up)
			c.mu.Unlock()
			go func() { _, _ = io.Copy(up, down); _ = up.Close() }()
			go func() { _, _ = io.Copy(down, up); _ = down.Close() }()
		}
	}()
}

// Cut refuses new connections and drops the open ones.
func (c *cutter) Cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln != nil {
		_ = c.ln.Close()
		c.ln = nil
	}
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

// Hang drops the open connections and accepts new ones that never answer.
func (c *cutter) Hang() {
	c.Cut()
	c.mu.Lock()
	c.hole = true
	c.mu.Unlock()
	c.listen()
}

// Restore accepts connections again, on the same address.
func (c *cutter) Restore() {
	c.mu.Lock()
	c.hole = false
	c.mu.Unlock()
	c.listen()
}

func (c *cutter) listen() {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		c.t.Fatal(err)
	}
	c.serve(ln)
}

// When the database cannot be reached, the protocol endpoints answer
// 503 temporarily_unavailable with Retry-After and the pages a readable
// 503 page — never a 500, and never the driver's words — and the server
// recovers by itself once the database is back. The positive controls: the
// same requests succeed before the cut and after it is restored.
func TestDatabaseOutageAnswers503(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cut := newCutter(t, u.Host)
	u.Host = cut.addr
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	vars := map[string]string{"GATEHOUSE_SECRET_KEY": hex.EncodeToString(k), "GATEHOUSE_DB": u.String()}
	dir := t.TempDir()
	for _, args := range [][]string{{"migrate"}, {"scope", "create", "read", "--description", "Read"}} {
		if code, _, errOut := runCmd(t, dir, vars, "", args...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	password := "ann's long enough password"
	if code, _, errOut := runCmd(t, dir, vars, password+"\n", "user", "create", "--username", "ann", "--password-stdin"); code != 0 {
		t.Fatalf("user create: %s", errOut)
	}
	svc := createAppWith(t, dir, vars, "--name", "Service", "--type", "confidential", "--scope", "read", "--grant", "client_credentials", "--resource-server")
	srv := startServer(t, dir, vars, "--issuer", "https://id.example", "--log-level", "error")

	token := func() rawResponse {
		return send(t, "POST", srv.URL+"/token", formCT, "grant_type=client_credentials", map[string]string{"Authorization": basicAuth(svc.ClientID, svc.ClientSecret)})
	}
	if r := token(); r.status != http.StatusOK {
		t.Fatalf("before the cut: %d %s", r.status, r.raw)
	}
	b := newBrowser(t, srv.URL)
	form := b.get("/login")

	cut.Cut()
	r := token()
	wantError(t, "a token request with the database gone", r, http.StatusServiceUnavailable, "temporarily_unavailable")
	if r.header.Get("Retry-After") == "" {
		t.Error("the 503 has no Retry-After")
	}
	for _, leak := range []string{"dial", "connect", "pgconn", "127.0.0.1", "postgres"} {
		if strings.Contains(strings.ToLower(r.raw), leak) {
			t.Errorf("the answer leaks %q: %s", leak, r.raw)
		}
	}
	if p := b.login(form, "ann", password); p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "try again") {
		t.Errorf("a sign-in with the database gone: %d %s", p.status, p.body)
	}
	if log := srv.Stderr.String(); strings.Contains(log, "panic") {
		t.Fatalf("the server panicked: %s", log)
	}

	// A database that accepts connections and never answers: the request
	// is bounded (connect_timeout, then the request's own timeout).
	cut.Cut()
	cut.Hang()
	start := time.Now()
	wantError(t, "a token request with the database hung", token(), http.StatusServiceUnavailable, "temporarily_unavailable")
	if d := time.Since(start); d > httpapi.RequestTimeout+5*time.Second {
		t.Errorf("a hung database held the request %v", d)
	}

	cut.Cut()
	cut.Restore()
	if r := token(); r.status != http.StatusOK {
		t.Fatalf("after the database came back: %d %s", r.status, r.raw)
	}
	if p := b.login(b.get("/login"), "ann", password); p.status != http.StatusSeeOther {
		t.Fatalf("a sign-in after the database came back: %d", p.status)
	}
}
