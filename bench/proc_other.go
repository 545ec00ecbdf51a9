//go:build !linux

package bench

import (
	"errors"
	"time"
)

var errNotLinux = errors.New("CPU pinning and CPU accounting need Linux")

// CPUAvailable reports whether this process may run on cpu: never, off Linux.
func CPUAvailable(int) bool { return false }

// PinSelf is not supported off Linux.
func PinSelf(int) (func() error, error) { return nil, errNotLinux }

// PinLoadGenerator is not supported off Linux.
func PinLoadGenerator(int) (string, func() error, error) { return "", nil, errNotLinux }

// CPUTime is not supported off Linux.
func CPUTime(int) (time.Duration, error) { return 0, errNotLinux }
