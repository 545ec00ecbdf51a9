package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatehouse/gatehouse/secret"
)

// loadKey finds the server key: GATEHOUSE_SECRET_KEY, GATEHOUSE_SECRET_KEY_FILE,
// or the key file that serve --dev created in dataDir (skipped when dataDir
// is empty). It returns nil and no error when there is none.
func loadKey(getenv func(string) string, dataDir string) ([]byte, error) {
	if v := getenv("GATEHOUSE_SECRET_KEY"); v != "" {
		k, err := decodeKey(v)
		if err != nil {
			return nil, fmt.Errorf("GATEHOUSE_SECRET_KEY: %w", err)
		}
		return k, nil
	}
	path := getenv("GATEHOUSE_SECRET_KEY_FILE")
	source := "GATEHOUSE_SECRET_KEY_FILE"
	if path == "" {
		if dataDir == "" {
			return nil, nil
		}
		path, source = filepath.Join(dataDir, keyFileName), "key file"
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && source == "key file" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	k, err := decodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", source, path, err)
	}
	return k, nil
}

// decodeKey accepts a hex or base64 encoding of at least 32 bytes. The error
// never repeats the value.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := hex.DecodeString(s); err == nil && len(k) >= secret.MinKeyLen {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) >= secret.MinKeyLen {
			return k, nil
		}
	}
	return nil, fmt.Errorf("the server key must be at least %d bytes, hex or base64 encoded (make one with: openssl rand -hex 32)", secret.MinKeyLen)
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
