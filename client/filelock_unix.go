//go:build unix

package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ownedByMe reports whether this process's user owns the file.
func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// openOwned opens path for reading, not through a symbolic link
// (O_NOFOLLOW), and refuses a file that another user owns: a key or a
// secret that another user can rewrite is not the app's own.
func openOwned(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link", path)
	}
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !ownedByMe(fi) {
		f.Close()
		return nil, fmt.Errorf("%s is not owned by this process's user (uid %d)", path, os.Geteuid())
	}
	return f, nil
}

// openPrivate opens a regular file, not through a symbolic link, that only
// its owner, this user, may use.
func openPrivate(path string) (*os.File, error) {
	return openChecked(path, os.O_RDONLY, 0)
}

func openChecked(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW, perm)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("client: %s is a symbolic link", path)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("client: %s is not a regular file", path)
	}
	if err == nil {
		err = checkPrivate(path, fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// lockFile takes an exclusive flock(2) lock on the file at path (created
// with mode 0600), polling with LOCK_NB until it is free or ctx is done.
// The lock is held by the open file: unlock releases it and closes the
// file, and the kernel releases it when the process ends.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := openChecked(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("client: the lock file: %w", err)
	}
	wait := minLockPoll
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("client: lock %s: %w", path, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, maxLockPoll)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
			f.Close()
		})
	}, nil
}
