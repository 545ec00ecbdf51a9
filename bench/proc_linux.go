package bench

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, which
// Linux fixes at 100 for every architecture's user-space ABI.
const userHZ = 100

// CPUAvailable reports whether this process may run on cpu.
func CPUAvailable(cpu int) bool {
	var set unix.CPUSet
	if cpu < 0 || unix.SchedGetaffinity(0, &set) != nil {
		return false
	}
	return set.IsSet(cpu)
}

// PinSelf restricts every thread of this process to cpu and returns a
// function that gives the threads their previous affinity back. Go's
// threads are created by cloning one another, so threads started later
// inherit the pinning.
func PinSelf(cpu int) (restore func() error, err error) {
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, fmt.Errorf("read CPU affinity: %w", err)
	}
	if cpu < 0 || !old.IsSet(cpu) {
		return nil, fmt.Errorf("CPU %d is not one this process may use", cpu)
	}
	set.Set(cpu)
	if err := setThreads(&set); err != nil {
		return nil, errors.Join(err, setThreads(&old))
	}
	return func() error { return setThreads(&old) }, nil
}

// PinLoadGenerator pins this process to cpu with GOMAXPROCS 1 to match, as
// a server started with taskset gets, and returns a description of the
// pinning and a function that undoes it.
func PinLoadGenerator(cpu int) (string, func() error, error) {
	restore, err := PinSelf(cpu)
	if err != nil {
		return "", nil, err
	}
	procs := runtime.GOMAXPROCS(1)
	undo := func() error {
		runtime.GOMAXPROCS(procs)
		return restore()
	}
	return fmt.Sprintf("sched_setaffinity CPU %d, GOMAXPROCS 1", cpu), undo, nil
}

// setThreads sets the affinity of every thread of this process, going over
// the thread list until a pass finds no thread it has not set.
func setThreads(set *unix.CPUSet) error {
	done := map[int]bool{}
	for pass := 0; pass < 100; pass++ {
		tids, err := threads()
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			err := unix.SchedSetaffinity(tid, set)
			if err != nil && !errors.Is(err, unix.ESRCH) { // ESRCH: the thread has exited
				return fmt.Errorf("set CPU affinity: %w", err)
			}
			done[tid], fresh = true, fresh+1
		}
		if fresh == 0 {
			return nil
		}
	}
	return errors.New("set CPU affinity: threads keep appearing")
}

func threads() ([]int, error) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("list threads: %w", err)
	}
	var tids []int
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// CPUTime returns the user and system CPU time process pid has used; pid 0
// is this process (without its children).
func CPUTime(pid int) (time.Duration, error) {
	if pid == 0 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			return 0, fmt.Errorf("getrusage: %w", err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis, where field 3 (state) is first.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, errors.New("read CPU time: /proc/PID/stat is too short")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}
