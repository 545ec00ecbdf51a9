package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ChildSpec is a server to run as a child process.
type ChildSpec struct {
	Path string
	Args []string
	// Env is the child's whole environment; secrets go here, never in Args.
	Env []string
	// CPU pins the child with taskset when taskset is installed; -1 does not
	// pin.
	CPU int
}

// Child is a running server process.
type Child struct {
	cmd *exec.Cmd
	// Pinning says how the child was pinned, for the report.
	Pinning string
	stderr  *tail
	done    chan struct{}
	err     error
}

// StartChild starts spec. Its stdout is discarded; the end of its stderr is
// kept for the error of a child that fails.
func StartChild(spec ChildSpec) (*Child, error) {
	path, args, pinning := spec.Path, spec.Args, "not pinned"
	if spec.CPU >= 0 {
		if ts, err := exec.LookPath("taskset"); err == nil {
			path, args = ts, append([]string{"-c", strconv.Itoa(spec.CPU), spec.Path}, spec.Args...)
			pinning = "taskset -c " + strconv.Itoa(spec.CPU)
		} else {
			pinning = "not pinned: taskset is not installed"
		}
	}
	c := &Child{Pinning: pinning, stderr: &tail{max: 4 << 10}, done: make(chan struct{})}
	c.cmd = exec.Command(path, args...)
	c.cmd.Env = spec.Env
	c.cmd.Stdout = io.Discard
	c.cmd.Stderr = c.stderr
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Path, err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	return c, nil
}

// Describe says how the child was pinned and which CPUs Linux lets it use.
func (c *Child) Describe() string {
	cpus, err := AllowedCPUs(c.PID())
	if err != nil {
		return c.Pinning
	}
	return c.Pinning + " (CPUs " + cpus + ")"
}

// PeakRSS is the child's peak resident set size in bytes, 0 if unknown.
func (c *Child) PeakRSS() int64 {
	n, _ := PeakRSS(c.PID())
	return n
}

// PID is the child's process id.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// WaitHealthy polls url until it answers 200, and fails if the child exits
// or timeout passes first.
func (c *Child) WaitHealthy(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if healthy(ctx, url) {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("the server exited before it was ready (%w): %s", c.err, c.stderr.String())
		case <-ctx.Done():
			return fmt.Errorf("the server was not ready after %s: %s", timeout, c.stderr.String())
		case <-tick.C:
		}
	}
}

func healthy(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop sends SIGTERM and waits for the child to finish; after grace it is
// killed. A child that exited with an error reports it, with the end of its
// stderr.
func (c *Child) Stop(grace time.Duration) error {
	select {
	case <-c.done:
	default:
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(grace):
			_ = c.cmd.Process.Kill()
			<-c.done
			return fmt.Errorf("the server did not stop within %s of SIGTERM and was killed", grace)
		}
	}
	if c.err != nil {
		return fmt.Errorf("the server failed (%w): %s", c.err, c.stderr.String())
	}
	return nil
}

// Exited reports whether the child has exited.
func (c *Child) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.b) == 0 {
		return "(no output)"
	}
	return string(t.b)
}

// FreeAddr returns a loopback address whose port is free at the time of the
// call, for a child to listen on.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Environ returns this process's environment without the variables whose
// names start with prefix, for a child that must get only the settings it
// is given.
func Environ(prefix string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if len(kv) < len(prefix) || kv[:len(prefix)] != prefix {
			out = append(out, kv)
		}
	}
	return out
}
