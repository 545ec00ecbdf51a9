package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine and a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testEnv returns the environment of a command run against dataDir.
func testEnv(dataDir string, vars map[string]string, stdin string, stdout, stderr *syncBuffer) env {
	return env{
		stdin:  strings.NewReader(stdin),
		stdout: stdout,
		stderr: stderr,
		getenv: func(k string) string {
			if k == "GATEHOUSE_DATA_DIR" {
				return dataDir
			}
			return vars[k]
		},
	}
}

// runCmd runs one command line in-process and returns its exit code, stdout
// and stderr.
func runCmd(t testing.TB, dataDir string, vars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuffer
	code := run(t.Context(), args, testEnv(dataDir, vars, stdin, &out, &errb))
	return code, out.String(), errb.String()
}

// randomHexKey returns a fresh server key, hex, as 'openssl rand -hex 32'
// makes one. Tests never use a fixed key: one that looks like a real
// secret trains readers to commit secrets, and a patterned one is refused.
func randomHexKey(t testing.TB) string {
	t.Helper()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return hex.EncodeToString(k)
}

// runRefused runs a command line that must be refused. Should it start a
// server instead, the server stops at once and the test fails, rather than
// waiting for the test's deadline.
func runRefused(t *testing.T, dataDir string, vars map[string]string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb syncBuffer
	e := testEnv(dataDir, vars, "", &out, &errb)
	e.onListen = func(addr string) {
		t.Errorf("%q started a server on %s", args, addr)
		cancel()
	}
	return run(ctx, args, e), errb.String()
}

type testServer struct {
	URL    string
	Stdout *syncBuffer
	Stderr *syncBuffer
	stop   func() int
}

// startServer runs 'gatehouse serve' in-process on a free loopback port and
// stops it when the test ends.
func startServer(t testing.TB, dataDir string, vars map[string]string, args ...string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}}
	e := testEnv(dataDir, vars, "", ts.Stdout, ts.Stderr)
	listening := make(chan string, 1)
	e.onListen = func(addr string) { listening <- addr }
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), e) }()
	select {
	case addr := <-listening:
		ts.URL = "http://" + addr
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d: %s", code, ts.Stderr.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start listening")
	}
	var once sync.Once
	var code int
	ts.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { ts.stop() })
	return ts
}
