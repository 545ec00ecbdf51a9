package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gatehouse/gatehouse/secret"
)

// loadKey finds the server key: GATEHOUSE_SECRET_KEY, GATEHOUSE_SECRET_KEY_FILE,
// or the key file that serve --dev created in dataDir (skipped when dataDir
// is empty). It returns nil and no error when there is none, and a warning
// for the operator when the key file is open to its group.
func loadKey(getenv func(string) string, dataDir string) (key []byte, warning string, err error) {
	if v := getenv("GATEHOUSE_SECRET_KEY"); v != "" {
		k, err := decodeKey(v)
		if err != nil {
			return nil, "", fmt.Errorf("GATEHOUSE_SECRET_KEY: %w", err)
		}
		return k, "", nil
	}
	path := getenv("GATEHOUSE_SECRET_KEY_FILE")
	source := "GATEHOUSE_SECRET_KEY_FILE"
	if path == "" {
		if dataDir == "" {
			return nil, "", nil
		}
		path, source = filepath.Join(dataDir, keyFileName), "key file"
	}
	b, groupOpen, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) && source == "key file" {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", source, err)
	}
	k, err := decodeKey(string(b))
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", source, path, err)
	}
	if groupOpen != 0 {
		warning = fmt.Sprintf("%s %s can be read or changed by its group (mode %04o): chmod 600 it unless that group is this server's alone", source, path, groupOpen)
	}
	return k, warning, nil
}

// readKeyFile reads a key file that other users can neither read nor
// change, and returns its mode when its group can. The mode checked is the
// open file's, so it is the mode of the bytes read.
func readKeyFile(path string) (b []byte, groupOpen fs.FileMode, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	perm := fi.Mode().Perm()
	if runtime.GOOS == "windows" {
		perm = 0o600 // no Unix modes: Go reports 0666 for every writable file
	}
	if perm&0o006 != 0 {
		return nil, 0, fmt.Errorf("%s can be read or changed by other users (mode %04o): make it private with: chmod 600 %s", path, perm, path)
	}
	if b, err = io.ReadAll(f); err != nil {
		return nil, 0, err
	}
	if perm&0o060 != 0 {
		groupOpen = perm
	}
	return b, groupOpen, nil
}

// decodeKey accepts a hex or base64 encoding of at least 32 bytes that
// looks random (keyWeakness, and textWeakness for base64). The error never
// repeats the value.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	k, inBase64 := decodeKeyText(s)
	if k == nil {
		return nil, fmt.Errorf("the server key must be at least %d bytes, hex or base64 encoded (make one with: openssl rand -hex 32)", secret.MinKeyLen)
	}
	w := keyWeakness(k)
	if w == "" && inBase64 {
		w = textWeakness(s)
	}
	if w != "" {
		return nil, fmt.Errorf("the server key is too weak: %s; make a random one with: openssl rand -hex 32", w)
	}
	return k, nil
}

// decodeKeyText decodes hex or base64 of at least secret.MinKeyLen bytes,
// and tells whether it was base64; it returns nil when s is neither.
func decodeKeyText(s string) (k []byte, inBase64 bool) {
	if k, err := hex.DecodeString(s); err == nil && len(k) >= secret.MinKeyLen {
		return k, false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) >= secret.MinKeyLen {
			return k, true
		}
	}
	return nil, false
}

// ensureDevKey creates the data directory and a key file (mode 0600) when
// missing, for serve --dev.
func ensureDevKey(dataDir string) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dataDir, keyFileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	_, err = f.WriteString(hex.EncodeToString(k) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	return nil
}

// The rules below refuse what people use instead of a random key. Each
// refuses a key made by crypto/rand, openssl rand or /dev/urandom with a
// probability of at most 2^-40 (the bound is in the comment of each rule);
// together they refuse a random 32-byte key with a probability under
// 2^-39, 4e-13 by the exact tails. TestRandomKeysAreNeverWeak tries a
// million.

// keyWeakness says why k, a decoded server key of at least 32 bytes, was
// not made by a random generator, or returns "" when it may have been.
func keyWeakness(k []byte) string {
	switch {
	case distinct(k) == 1:
		return "every byte is the same"
	case isText(k):
		// Printable ASCII or whitespace: P = (98/256)^32 = 2^-44.
		return "its bytes are all printable characters: it encodes text (a password or passphrase), not random bytes"
	case distinct(k) < 16:
		// 32 random bytes have about 30 different values; fewer than 16:
		// P = 3e-17 (the occupancy distribution; less for longer keys).
		return "it has fewer than 16 different byte values"
	case repeats(k):
		// A period p ≤ n/2: P ≤ Σ 256^-(n-p) < 2^-127.
		return "its bytes repeat a pattern"
	case distinct(steps(k, 0xff)) < 16:
		// Counting (00 01 02 …) and other regular steps. The 31 steps of
		// 32 random bytes are random too: P = 5e-16.
		return "its bytes step in a regular pattern"
	}
	return ""
}

// textWeakness says why s, a base64 key, was not made by encoding random
// bytes, or returns "" when it may have been: 44 letters typed by hand
// decode to bytes that pass keyWeakness. Each base64 character of random
// bytes is uniform over 64 values and independent of the others; only the
// characters that carry 6 bits of the key are judged (42 of the 43 of a
// 32-byte key).
func textWeakness(s string) string {
	v := sixBits(s)
	v = v[:len(v)*6/8*8/6]
	switch {
	case repeats(v):
		// A period p ≤ n/2: P ≤ Σ 64^-(n-p) < 2^-125.
		return "it repeats a pattern of characters"
	case distinct(v) < 16:
		// 42 random characters have about 31 different ones: P = 2e-13.
		return "it has fewer than 16 different characters"
	case distinct(steps(v, 0x3f)) < 12:
		// The alphabet in order (abc…zABC…) and other regular steps:
		// P = 3e-20.
		return "its characters step through the alphabet in a regular pattern"
	case oneKind(v):
		// P ≤ 2·(26/64)^42 + (10/64)^42 < 2^-53.
		return "its characters are all lowercase letters, all capitals or all digits"
	case wordScore(v) >= 40:
		// P ≤ 2^-40, the likelihood-ratio bound: under any distribution P
		// of characters, Pr[Π 64·P(c) ≥ 2^40] ≤ 2^-40 for uniform c. The
		// exact tail for 42 characters is 1.2e-13.
		return "it reads like words, not like random characters"
	}
	return ""
}

// sixBits returns the value (0–63) of each base64 character of s, in the
// standard or the URL alphabet, without line breaks and padding.
func sixBits(s string) []byte {
	v := make([]byte, 0, len(s))
	for i := range len(s) {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z':
			v = append(v, c-'A')
		case c >= 'a' && c <= 'z':
			v = append(v, c-'a'+26)
		case c >= '0' && c <= '9':
			v = append(v, c-'0'+52)
		case c == '+' || c == '-':
			v = append(v, 62)
		case c == '/' || c == '_':
			v = append(v, 63)
		}
	}
	return v
}

// distinct counts the different values in b.
func distinct(b []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n
}

// repeats reports whether b is a pattern of at most half its length,
// repeated (the last repetition may be cut short).
func repeats(b []byte) bool {
	for p := 1; p <= len(b)/2; p++ {
		if bytes.Equal(b[p:], b[:len(b)-p]) {
			return true
		}
	}
	return false
}

// steps returns the differences of successive values of b, masked: modulo
// 256 for bytes (0xff), modulo 64 for base64 values (0x3f).
func steps(b []byte, mask byte) []byte {
	d := make([]byte, len(b)-1)
	for i := range d {
		d[i] = (b[i+1] - b[i]) & mask
	}
	return d
}

// isText reports whether every byte of b is printable ASCII or whitespace.
func isText(b []byte) bool {
	for _, c := range b {
		if (c < ' ' || c > '~') && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// oneKind reports whether base64 values v are all capitals (0–25), all
// lowercase letters (26–51) or all digits (52–61).
func oneKind(v []byte) bool {
	kind := func(c byte) byte { return min(c/26, 2) } // 0 capital, 1 lowercase, 2 digit or symbol
	for _, c := range v {
		if kind(c) != kind(v[0]) || c >= 62 {
			return false
		}
	}
	return true
}

// wordScore is how many bits more likely base64 values v are as typed words
// than as random characters: Σ log2(64·P(c)) under wordBits' model.
func wordScore(v []byte) float64 {
	var bits float64
	for _, c := range v {
		bits += wordBits[c]
	}
	return bits
}

// wordBits[c] is log2(64·P(c)) for the base64 value c, where P is how
// people typing words use the characters: English letter frequencies, 80 %
// of them lowercase and 15 % capitals, 4 % digits, 1 % the two symbols.
// Random characters average -1.3 bits each, English lowercase +1.5.
var wordBits = func() (b [64]float64) {
	// Letter frequencies in English text, per 100 000 letters (Lewand).
	freq := [26]float64{8167, 1492, 2782, 4253, 12702, 2228, 2015, 6094, 6966, 153, 772, 4025, 2406,
		6749, 7507, 1929, 95, 5987, 6327, 9056, 2758, 978, 2360, 150, 1974, 74}
	var total float64
	for _, f := range freq {
		total += f
	}
	for i, f := range freq {
		b[i] = math.Log2(64 * 0.15 * f / total)
		b[26+i] = math.Log2(64 * 0.80 * f / total)
	}
	for c := 52; c < 62; c++ {
		b[c] = math.Log2(64 * 0.04 / 10)
	}
	b[62], b[63] = math.Log2(64*0.01/2), math.Log2(64*0.01/2)
	return b
}()
