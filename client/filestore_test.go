package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newTestFileStore(t *testing.T, dir string, ks *Keys) *FileStore {
	t.Helper()
	s, err := NewFileStore(dir, ks)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// privateDir returns a directory for a FileStore (t.TempDir's mode is
// 0755, which the store refuses).
func privateDir(t *testing.T) string { return filepath.Join(t.TempDir(), "tokens") }

func (s *FileStore) pathOf(key TokenKey) string {
	return filepath.Join(s.dir, s.name(key)+tokenSuffix)
}

func fileSealedStore(t *testing.T, ks *Keys) sealedStore {
	dir := filepath.Join(t.TempDir(), "tokens")
	s := newTestFileStore(t, dir, ks)
	return sealedStore{
		TokenStore: s,
		keys:       func(ks *Keys) rotatingStore { return newTestFileStore(t, dir, ks) },
		get: func(t *testing.T, key TokenKey) sealed {
			r, err := s.read(s.pathOf(key))
			if err != nil {
				t.Fatal(err)
			}
			return r.sealed()
		},
		put: func(t *testing.T, key TokenKey, sl sealed) {
			// The record keeps the TokenKey it was saved under: a moved file.
			r, err := s.read(s.pathOf(alice))
			if err != nil {
				t.Fatal(err)
			}
			r.Record, r.Access, r.Refresh = sl.record, sl.access, sl.refresh
			b, _ := json.Marshal(r)
			if err := os.WriteFile(s.pathOf(key), b, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		dump: func(t *testing.T) []byte { return dumpDir(t, dir) },
	}
}

func dumpDir(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all = append(append(all, e.Name()...), b...)
	}
	return all
}

func TestFileStore(t *testing.T) {
	runStoreTests(t, func(t *testing.T) TokenStore {
		return newTestFileStore(t, privateDir(t), testKeys(t, testKey(t)))
	})
}

func TestFileStoreSealed(t *testing.T) { runSealedStoreTests(t, fileSealedStore) }

func TestMemoryStore(t *testing.T) {
	runStoreTests(t, func(*testing.T) TokenStore { return &MemoryStore{} })
}

func TestFileStoreModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	s := newTestFileStore(t, dir, testKeys(t, testKey(t)))
	if err := s.Save(t.Context(), alice, testToken(t)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the directory's mode: %v %v, want 0700", fi.Mode(), err)
	}
	fi, err := os.Stat(s.pathOf(alice))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the token file's mode: %v %v, want 0600", fi.Mode(), err)
	}
	if err := os.Chmod(s.pathOf(alice), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(t.Context(), alice); err == nil || !strings.Contains(err.Error(), "open to other users") {
		t.Fatalf("Load of a 0644 file: %v, want a refusal", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileStore(dir, testKeys(t, testKey(t))); err == nil {
		t.Fatal("NewFileStore accepted a 0755 directory")
	}
}

func TestFileStoreRefusesSymlink(t *testing.T) {
	dir := privateDir(t)
	s := newTestFileStore(t, dir, testKeys(t, testKey(t)))
	if err := s.Save(t.Context(), alice, testToken(t)); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "x")
	if err := os.Rename(s.pathOf(alice), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, s.pathOf(alice)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(t.Context(), alice); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Load through a symbolic link: %v, want a refusal", err)
	}
}

// TestFileStoreCrashMidWrite: a Save that died before its rename leaves a
// temporary file; Load returns the old record, and Rotate ignores the
// leftover.
func TestFileStoreCrashMidWrite(t *testing.T) {
	dir := privateDir(t)
	s := newTestFileStore(t, dir, testKeys(t, testKey(t)))
	old := testToken(t)
	if err := s.Save(t.Context(), alice, old); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(s.pathOf(alice))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, tempPrefix+"123456"+tokenSuffix), full[:len(full)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(t.Context(), alice)
	if err != nil {
		t.Fatal(err)
	}
	sameToken(t, got, old)
	if _, err := s.Rotate(t.Context()); err != nil {
		t.Fatalf("Rotate with a leftover temporary file: %v", err)
	}
}

func TestFileStoreSaveLeavesNoTemporaryFile(t *testing.T) {
	dir := privateDir(t)
	s := newTestFileStore(t, dir, testKeys(t, testKey(t)))
	for range 3 {
		if err := s.Save(t.Context(), alice, testToken(t)); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("the directory holds %d files, want the token file only", len(entries))
	}
}

// Lock across processes: the child takes the lock and holds it until its
// standard input closes.
const envLockChild = "GATEHOUSE_TEST_LOCK_CHILD"

// lockChildren open, in the child, the Locker the parent named.
var lockChildren = map[string]func(t *testing.T) Locker{
	"file": func(t *testing.T) Locker {
		return newTestFileStore(t, os.Getenv(envLockChild+"_DIR"), testKeys(t, testKey(t)))
	},
}

// TestLockChild is the child's side of the cross-process lock tests: it
// does nothing unless the parent started it.
func TestLockChild(t *testing.T) {
	kind := os.Getenv(envLockChild)
	if kind == "" {
		t.Skip("the child process of the lock tests")
	}
	l := lockChildren[kind](t)
	unlock, err := l.Lock(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("\nlocked\n")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	unlock()
}

// testLockAcrossProcesses runs a child that holds key alice's lock, and
// checks that l waits for it, honouring its context.
func testLockAcrossProcesses(t *testing.T, l Locker, env ...string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	locked := make(chan bool)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "locked" {
				locked <- true
			}
		}
		close(locked)
	}()
	select {
	case ok := <-locked:
		if !ok {
			t.Fatal("the child ended without taking the lock")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the child did not take the lock")
	}

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(ctx, alice); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while the child holds it: %v, want context.DeadlineExceeded", err)
	}
	unlockBob, err := l.Lock(t.Context(), bob) // another key is free
	if err != nil {
		t.Fatal(err)
	}
	unlockBob()

	got := make(chan error, 1)
	released := time.Now().Add(300 * time.Millisecond)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		unlock, err := l.Lock(ctx, alice)
		if err == nil {
			if time.Now().Before(released) {
				err = errors.New("Lock returned while the child held the lock")
			}
			unlock()
		}
		got <- err
	}()
	time.Sleep(time.Until(released))
	stdin.Close() // the child unlocks and ends
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

func TestFileStoreLockAcrossProcesses(t *testing.T) {
	dir := privateDir(t)
	s := newTestFileStore(t, dir, testKeys(t, testKey(t)))
	testLockAcrossProcesses(t, s, envLockChild+"=file", envLockChild+"_DIR="+dir)
}

func TestFileStoreLockInProcess(t *testing.T) {
	s := newTestFileStore(t, privateDir(t), testKeys(t, testKey(t)))
	unlock, err := s.Lock(t.Context(), alice)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(ctx, alice); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second Lock: %v, want context.DeadlineExceeded", err)
	}
	unlock()
	unlock() // twice is harmless
	unlock, err = s.Lock(t.Context(), alice)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}
