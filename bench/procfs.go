package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// statusField returns a field of /proc/PID/status, such as VmHWM.
func statusField(pid int, name string) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "", fmt.Errorf("read process status: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == name {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("read process status: no %s field", name)
}

// PeakRSS returns the peak resident set size of process pid in bytes: the
// kernel's high-water mark, VmHWM.
func PeakRSS(pid int) (int64, error) {
	v, err := statusField(pid, "VmHWM")
	if err != nil {
		return 0, err
	}
	kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read peak RSS: %w", err)
	}
	return kb << 10, nil
}

// AllowedCPUs returns the CPUs process pid may run on, as Linux lists them
// ("0", "0-1").
func AllowedCPUs(pid int) (string, error) {
	return statusField(pid, "Cpus_allowed_list")
}

// CPUModel returns the model name of the first CPU in /proc/cpuinfo, or
// "unknown".
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
