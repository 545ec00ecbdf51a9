package bench

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestProcfs(t *testing.T) {
	pid := os.Getpid()
	if rss, err := PeakRSS(pid); err != nil || rss < 1<<20 {
		t.Errorf("PeakRSS = %d, %v", rss, err)
	}
	if cpus, err := AllowedCPUs(pid); err != nil || cpus == "" {
		t.Errorf("AllowedCPUs = %q, %v", cpus, err)
	}
	for _, p := range []int{0, pid} {
		if d, err := CPUTime(p); err != nil || d < 0 {
			t.Errorf("CPUTime(%d) = %v, %v", p, d, err)
		}
	}
	if _, err := PeakRSS(-1); err == nil {
		t.Error("PeakRSS of no process has no error")
	}
	if CPUModel() == "" {
		t.Error("no CPU model")
	}
}

// TestPinSelf pins this process to a CPU it may use, checks every thread
// followed, and restores the affinity.
func TestPinSelf(t *testing.T) {
	before, err := AllowedCPUs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cpu := 0
	for !CPUAvailable(cpu) {
		cpu++
		if cpu > 1024 {
			t.Skip("no CPU available")
		}
	}
	restore, err := PinSelf(cpu)
	if err != nil {
		t.Fatal(err)
	}
	tids, err := threads()
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range tids {
		b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/status")
		if err != nil {
			continue // the thread has exited
		}
		if !strings.Contains(string(b), "Cpus_allowed_list:\t"+strconv.Itoa(cpu)+"\n") {
			t.Errorf("thread %d is not pinned to CPU %d", tid, cpu)
		}
	}
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	if after, _ := AllowedCPUs(os.Getpid()); after != before {
		t.Errorf("affinity after restore %q, before %q", after, before)
	}
	if _, err := PinSelf(-1); err == nil {
		t.Error("pinning to CPU -1 has no error")
	}
}
