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

// maxKeyFile bounds a key file's size.
const maxKeyFile = 4096

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
	// A key is a line of at most a few hundred characters: a file larger
	// than maxKeyFile is not one, and is not read into memory.
	if b, err = io.ReadAll(io.LimitReader(f, maxKeyFile+1)); err != nil {
		return nil, 0, err
	}
	if len(b) > maxKeyFile {
		return nil, 0, fmt.Errorf("%s is larger than %d bytes: not a key file", path, maxKeyFile)
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
	switch {
	case w == "" && inBase64:
		w = textWeakness(s)
	case w == "":
		w = hexWeakness(s)
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
// probability of at most 2^-36 (the bound is in the comment of each rule;
// all but the word rule's are under 2^-43); together they refuse a random
// 32-byte key with a probability under 2^-35 (3e-11), and about 1e-12 by
// the word rule's observed spread. TestRandomKeysAreNeverWeak tries a
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
	case longestRun(k) >= 8:
		// Zero padding, or a value written over part of the key:
		// P ≤ (n-7)·256^-7 < 2^-51.
		return "it has a run of 8 or more equal bytes"
	case distinct(every2(k, 0)) < 6 || distinct(every2(k, 1)) < 6:
		// A counter of two-byte values (00 01 00 02 …): 16 random bytes
		// take fewer than 6 values with P = 3e-15.
		return "every other byte takes only a few values"
	}
	return ""
}

// hexWeakness says why s, a hex key, was not made by encoding random
// bytes: digits alone (a number such as π, a date, a phone number) come
// from random bytes with P = (10/16)^64 = 2^-43 for 32 bytes.
func hexWeakness(s string) string {
	if strings.Trim(s, "0123456789") == "" {
		return "it is written in digits only (a number, not random bytes)"
	}
	return ""
}

// longestRun is the length of the longest run of equal bytes in b.
func longestRun(b []byte) int {
	best, run := 0, 0
	for i := range b {
		if i > 0 && b[i] == b[i-1] {
			run++
		} else {
			run = 1
		}
		best = max(best, run)
	}
	return best
}

// every2 returns the bytes of b at positions off, off+2, off+4, ….
func every2(b []byte, off int) []byte {
	out := make([]byte, 0, len(b)/2+1)
	for i := off; i < len(b); i += 2 {
		out = append(out, b[i])
	}
	return out
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
	case wordScore(v) >= 36:
		// P ≤ 2^-36, the likelihood-ratio bound: under any distribution P
		// of character sequences, Pr[Π 64·P(c | …) ≥ 2^36] ≤ 2^-36 for
		// uniform c. Random keys score -84 on average (s.d. 17): 36 is
		// seven deviations away, and no key of 10^6 scored above -6.
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

// wordScore is how many bits more likely base64 values v are as typed
// words than as random characters: Σ log2(64·P(c | the one before)) under
// a model of typed text. Any model will do for the bound (see
// textWeakness): it only has to be a distribution over the 64 characters
// at each step, which this one is. The model: a character's kind (a
// lowercase letter, a capital, a digit, a symbol) follows the kind before
// it (classTransitions); a letter follows the letter before it as in
// English (letterPairs), or, at the start of a word (after a non-letter,
// or a capital after a lowercase letter: camel case), as English letters
// are used (letterFreq); digits and symbols are equally likely. Random
// characters average about -82 bits for a 32-byte key (s.d. 17), English
// words typed in camel case or in capitals +40 to +60.
func wordScore(v []byte) float64 {
	var bits float64
	prevKind, prevLetter := kindStart, -1
	for _, c := range v {
		var kind, letter int
		var p float64
		switch {
		case c < 52:
			kind, letter = kindLower, int(c)-26
			if c < 26 {
				kind, letter = kindUpper, int(c)
			}
			if prevLetter < 0 || (kind == kindUpper && prevKind == kindLower) {
				p = letterFreq[letter] / letterFreqTotal
			} else {
				p = letterPairs[prevLetter][letter] / letterPairTotals[prevLetter]
			}
		case c < 62:
			kind, letter, p = kindDigit, -1, 1.0/10
		default:
			kind, letter, p = kindSymbol, -1, 1.0/2
		}
		bits += math.Log2(64 * classTransitions[prevKind][kind] * p)
		prevKind, prevLetter = kind, letter
	}
	return bits
}

// The kinds of characters of wordScore's model.
const (
	kindLower = iota
	kindUpper
	kindDigit
	kindSymbol
	kindStart // before the first character
)

// classTransitions[a][b] is the probability that a character of kind b
// follows one of kind a: words run on in one case, digits come in runs.
var classTransitions = [5][4]float64{
	kindLower:  {0.84, 0.10, 0.03, 0.03},
	kindUpper:  {0.45, 0.49, 0.02, 0.04},
	kindDigit:  {0.10, 0.10, 0.74, 0.06},
	kindSymbol: {0.35, 0.45, 0.15, 0.05},
	kindStart:  {0.50, 0.40, 0.08, 0.02},
}

// letterFreq are the frequencies of letters in English text, per 100 000
// letters (Lewand).
var letterFreq = [26]float64{8167, 1492, 2782, 4253, 12702, 2228, 2015, 6094, 6966, 153, 772, 4025, 2406,
	6749, 7507, 1929, 95, 5987, 6327, 9056, 2758, 978, 2360, 150, 1974, 74}

// letterPairs[a][b] is how often, per thousand, letter b follows letter a
// within an English word: counted, case folded, in the 1.4 million words
// of Vim 9.0's documentation, add-one smoothed, rounded (at least 1).
var letterPairs = [26][26]float64{
	{2, 34, 49, 45, 1, 13, 28, 1, 23, 1, 31, 118, 39, 178, 1, 29, 1, 122, 58, 155, 24, 17, 4, 9, 18, 1}, // a
	{85, 7, 5, 5, 229, 1, 2, 1, 31, 7, 1, 293, 2, 2, 52, 3, 1, 44, 17, 4, 143, 6, 1, 1, 61, 1},          // b
	{100, 1, 9, 2, 57, 1, 1, 228, 23, 1, 52, 57, 25, 1, 200, 4, 1, 55, 7, 122, 50, 1, 1, 1, 4, 1},       // c
	{29, 4, 5, 65, 250, 5, 1, 1, 272, 6, 1, 20, 6, 5, 200, 3, 1, 16, 57, 17, 26, 2, 2, 2, 7, 1},         // d
	{40, 3, 48, 89, 22, 27, 10, 1, 6, 1, 1, 37, 61, 121, 2, 15, 3, 160, 191, 69, 1, 21, 9, 55, 9, 1},    // e
	{48, 1, 1, 6, 80, 81, 2, 1, 358, 1, 1, 22, 2, 6, 218, 1, 1, 36, 5, 55, 70, 1, 2, 1, 6, 1},           // f
	{47, 2, 3, 4, 281, 5, 21, 117, 94, 2, 1, 39, 3, 61, 26, 3, 2, 60, 56, 20, 135, 13, 5, 1, 1, 2},      // g
	{166, 1, 1, 1, 567, 1, 1, 1, 118, 1, 1, 16, 5, 2, 64, 2, 1, 11, 4, 33, 6, 1, 1, 1, 1, 1},            // h
	{15, 9, 27, 19, 13, 35, 30, 1, 1, 1, 7, 111, 82, 265, 97, 14, 2, 46, 112, 88, 1, 8, 1, 11, 1, 6},    // i
	{131, 1, 2, 1, 122, 1, 6, 1, 35, 3, 14, 1, 2, 1, 219, 10, 1, 1, 64, 1, 383, 1, 3, 1, 1, 1},          // j
	{66, 3, 2, 6, 488, 48, 10, 3, 120, 1, 2, 9, 5, 17, 17, 6, 1, 6, 137, 6, 24, 4, 13, 1, 8, 1},         // k
	{64, 5, 2, 29, 342, 6, 1, 1, 132, 1, 1, 102, 1, 5, 93, 7, 1, 2, 31, 27, 99, 2, 5, 1, 42, 1},         // l
	{255, 37, 5, 35, 219, 2, 1, 1, 68, 1, 3, 9, 72, 10, 108, 104, 1, 7, 36, 1, 17, 2, 1, 1, 5, 2},       // m
	{57, 1, 55, 178, 112, 14, 169, 1, 33, 1, 5, 17, 3, 15, 86, 4, 1, 4, 67, 127, 33, 8, 1, 1, 9, 1},     // n
	{7, 54, 28, 29, 11, 45, 7, 2, 8, 1, 6, 76, 75, 196, 11, 47, 1, 163, 39, 61, 68, 19, 46, 1, 1, 1},    // o
	{196, 3, 3, 7, 126, 2, 1, 8, 41, 1, 1, 85, 3, 1, 77, 47, 1, 220, 18, 98, 37, 1, 7, 1, 19, 1},        // p
	{15, 3, 1, 1, 1, 42, 1, 1, 3, 1, 1, 52, 1, 9, 1, 1, 2, 6, 4, 1, 852, 2, 1, 1, 1, 1},                 // q
	{62, 2, 159, 17, 219, 5, 17, 1, 73, 1, 20, 22, 36, 23, 145, 2, 1, 30, 56, 48, 26, 3, 9, 1, 25, 1},   // r
	{24, 1, 39, 1, 198, 1, 2, 32, 74, 1, 5, 8, 4, 8, 99, 32, 1, 146, 39, 231, 31, 1, 6, 1, 17, 1},       // s
	{52, 2, 53, 29, 205, 4, 1, 256, 145, 1, 2, 8, 3, 1, 96, 5, 1, 41, 26, 19, 16, 1, 6, 8, 20, 1},       // t
	{29, 14, 14, 12, 32, 42, 22, 3, 48, 1, 1, 59, 74, 130, 4, 56, 1, 93, 180, 185, 1, 1, 1, 1, 1, 1},    // u
	{188, 1, 7, 1, 289, 1, 1, 1, 466, 1, 1, 1, 9, 1, 23, 1, 1, 1, 2, 9, 1, 1, 1, 1, 1, 1},               // v
	{105, 1, 1, 2, 37, 2, 1, 240, 391, 1, 1, 3, 2, 19, 97, 2, 1, 45, 45, 1, 1, 1, 4, 1, 1, 1},           // w
	{89, 2, 43, 13, 113, 8, 1, 2, 77, 1, 1, 3, 11, 1, 1, 209, 1, 5, 8, 382, 4, 2, 2, 19, 4, 1},          // x
	{30, 8, 5, 4, 58, 4, 13, 1, 18, 1, 1, 23, 22, 112, 266, 174, 1, 8, 106, 104, 7, 2, 23, 8, 2, 3},     // y
	{91, 1, 3, 7, 538, 6, 5, 16, 80, 2, 2, 5, 5, 6, 50, 3, 3, 9, 53, 3, 23, 2, 5, 2, 55, 24},            // z
}

var letterFreqTotal, letterPairTotals = func() (float64, [26]float64) {
	var t float64
	var rows [26]float64
	for i := range 26 {
		t += letterFreq[i]
		for _, n := range letterPairs[i] {
			rows[i] += n
		}
	}
	return t, rows
}()
