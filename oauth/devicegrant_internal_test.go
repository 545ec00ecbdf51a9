package oauth

import (
	"strings"
	"testing"
)

// DEV-5.1-a: user codes are UserCodeLength letters of UserCodeAlphabet,
// every letter drawn uniformly (each of the 20 letters within 15% of its
// expected count over 80,000 draws: a biased draw, such as a modulo of a
// byte, or a letter never drawn, fails), so that their entropy is the
// 20^8 that the limits are counted for.
func TestUserCodeDraws(t *testing.T) {
	counts := map[rune]int{}
	const n = 10000
	for range n {
		c := newUserCode()
		if len(c) != UserCodeLength {
			t.Fatalf("user code %q has %d letters", c, len(c))
		}
		for _, r := range c {
			if !strings.ContainsRune(UserCodeAlphabet, r) {
				t.Fatalf("user code %q has %q, outside the alphabet", c, r)
			}
			counts[r]++
		}
		if norm, ok := NormalizeUserCode(FormatUserCode(c)); !ok || norm != c {
			t.Fatalf("user code %q does not read back from %q", c, FormatUserCode(c))
		}
	}
	want := float64(n*UserCodeLength) / float64(len(UserCodeAlphabet))
	for _, r := range UserCodeAlphabet {
		if got := float64(counts[r]); got < want*0.85 || got > want*1.15 {
			t.Errorf("letter %q drawn %v times, want about %v", r, got, want)
		}
	}
}
