package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// FileStore keeps each TokenKey's tokens encrypted in a file of its own in
// one private directory: for native and command-line apps. Made by
// NewFileStore.
//
// Each token is sealed with AES-256-GCM under the current key of its Keys,
// with a random 96-bit nonce and the key's id, and bound to its TokenKey
// and kind (see ErrDecrypt). A Save writes a temporary file in the
// directory, syncs it, renames it over the old file and syncs the
// directory, so a crash leaves the old tokens or the new ones. Files are
// mode 0600 in a directory of mode 0700; a file or directory that its
// group or others may read or that another user owns is refused, as is a
// symbolic link.
//
// A file is named by a SHA-256 hash of its TokenKey and holds the key in
// plain text (issuer, client id, subject) beside the two ciphertexts, so
// that Rotate can re-encrypt it. Lock takes an flock(2) lock on a lock file
// beside it, which holds across processes.
type FileStore struct {
	dir  string
	keys *Keys
}

var (
	_ TokenStore = (*FileStore)(nil)
	_ Locker     = (*FileStore)(nil)
)

const (
	tokenSuffix = ".token"
	lockSuffix  = ".lock"
	tempPrefix  = ".tmp-"
)

// Lock polling (flock(2) and the SQLite lock row cannot wait on a
// context): a lock held elsewhere is tried again at growing intervals up
// to maxLockPoll.
const (
	minLockPoll = 2 * time.Millisecond
	maxLockPoll = 50 * time.Millisecond
)

// NewFileStore returns the store in directory dir, creating it with mode
// 0700 if it does not exist. It refuses a directory that its group or
// others may read, write or search, or that another user owns, and nil or
// empty keys.
func NewFileStore(dir string, keys *Keys) (*FileStore, error) {
	if keys == nil {
		return nil, errors.New("client: NewFileStore: no Keys")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("client: the token directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("client: the token directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("client: the token directory %s is not a directory", dir)
	}
	if err := checkPrivate(dir, fi); err != nil {
		return nil, err
	}
	return &FileStore{dir: dir, keys: keys}, nil
}

// checkPrivate refuses what its group or others may use, or another user
// owns.
func checkPrivate(path string, fi fs.FileInfo) error {
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("client: %s is open to other users (mode %#o): chmod go-rwx it", path, perm)
	}
	if !ownedByMe(fi) {
		return fmt.Errorf("client: %s belongs to another user", path)
	}
	return nil
}

// fileRecord is a token file's content.
type fileRecord struct {
	Version  int    `json:"v"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	Subject  string `json:"subject,omitempty"`
	Record   []byte `json:"record"`
	Access   []byte `json:"access"`
	Refresh  []byte `json:"refresh"`
}

func (r fileRecord) key() TokenKey {
	return TokenKey{Issuer: r.Issuer, ClientID: r.ClientID, Subject: r.Subject}
}

func (r fileRecord) sealed() sealed {
	return sealed{record: r.Record, access: r.Access, refresh: r.Refresh}
}

func newFileRecord(key TokenKey, s sealed) fileRecord {
	return fileRecord{Version: sealVersion, Issuer: key.Issuer, ClientID: key.ClientID, Subject: key.Subject,
		Record: s.record, Access: s.access, Refresh: s.refresh}
}

// name returns the file name, without suffix, of key's files.
func (s *FileStore) name(key TokenKey) string {
	h := sha256.Sum256(additionalData(key, "file", nil))
	return hex.EncodeToString(h[:])
}

// Load returns key's tokens, ErrNoToken when there are none, or ErrDecrypt
// when the file does not decrypt for key.
func (s *FileStore) Load(_ context.Context, key TokenKey) (*oauth2.Token, error) {
	r, err := s.read(filepath.Join(s.dir, s.name(key)+tokenSuffix))
	if err != nil {
		return nil, err
	}
	return s.keys.open(key, r.sealed())
}

// read reads and parses one token file.
func (s *FileStore) read(path string) (fileRecord, error) {
	f, err := openPrivate(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileRecord{}, ErrNoToken
	}
	if err != nil {
		return fileRecord{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPayloadLen))
	if err != nil {
		return fileRecord{}, fmt.Errorf("client: read the token file: %w", err)
	}
	var r fileRecord
	if err := json.Unmarshal(b, &r); err != nil || r.Version != sealVersion {
		return fileRecord{}, fmt.Errorf("%w: the token file %s is not a token record", ErrDecrypt, path)
	}
	return r, nil
}

// Save replaces key's tokens, atomically.
func (s *FileStore) Save(_ context.Context, key TokenKey, tok *oauth2.Token) error {
	sl, err := s.keys.seal(key, tok)
	if err != nil {
		return err
	}
	return s.write(key, newFileRecord(key, sl))
}

// write replaces key's file with r: a temporary file (mode 0600) in the
// same directory, synced, renamed over the old one, and the directory
// synced, so that a crash at any point leaves the old file or the new.
func (s *FileStore) write(key TokenKey, r fileRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, tempPrefix+"*") // mode 0600
	if err != nil {
		return fmt.Errorf("client: save the token: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("client: save the token: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("client: save the token: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("client: save the token: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, s.name(key)+tokenSuffix)); err != nil {
		return fmt.Errorf("client: save the token: %w", err)
	}
	return s.syncDir()
}

func (s *FileStore) syncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("client: sync the token directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("client: sync the token directory: %w", err)
	}
	return nil
}

// Delete removes key's tokens; deleting what is not there is not an error.
func (s *FileStore) Delete(_ context.Context, key TokenKey) error {
	err := os.Remove(filepath.Join(s.dir, s.name(key)+tokenSuffix))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("client: delete the token: %w", err)
	}
	if err == nil {
		return s.syncDir()
	}
	return nil
}

// Lock takes an exclusive lock on key that holds across processes (and
// between callers in one process) until unlock is called or the process
// ends. It waits until the lock is free or ctx is done, and returns
// ctx.Err() in the second case. Do not call Rotate while holding a lock:
// it takes the same locks.
func (s *FileStore) Lock(ctx context.Context, key TokenKey) (unlock func(), err error) {
	return lockFile(ctx, filepath.Join(s.dir, s.name(key)+lockSuffix))
}

// Rotate re-encrypts every record of the store that is not under the
// current key, and returns how many it re-encrypted. Each record is
// re-encrypted under its Lock, so a concurrent refresh in another process
// is not overwritten. When Rotate returns nil, the keys other than the
// current one may be dropped from the Keys. A record that does not decrypt
// is left as it is and reported in the error (wrapping ErrDecrypt), after
// the others are done.
func (s *FileStore) Rotate(ctx context.Context) (int, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("client: rotate: %w", err)
	}
	n := 0
	var errs []error
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), tokenSuffix) || strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		done, err := s.rotateOne(ctx, filepath.Join(s.dir, e.Name()))
		if err != nil {
			if ctx.Err() != nil {
				return n, err
			}
			errs = append(errs, fmt.Errorf("%s: %w", e.Name(), err))
		}
		if done {
			n++
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("client: rotate: %w", errors.Join(errs...))
	}
	return n, nil
}

func (s *FileStore) rotateOne(ctx context.Context, path string) (bool, error) {
	r, err := s.read(path)
	if err != nil {
		return false, err
	}
	key := r.key()
	if filepath.Base(path) != s.name(key)+tokenSuffix {
		return false, fmt.Errorf("%w: the record was moved from another token key's file", ErrDecrypt)
	}
	unlock, err := s.Lock(ctx, key)
	if err != nil {
		return false, err
	}
	defer unlock()
	if r, err = s.read(path); err != nil { // again, under the lock
		if errors.Is(err, ErrNoToken) {
			return false, nil
		}
		return false, err
	}
	sl, changed, err := s.keys.reseal(key, r.sealed())
	if err != nil || !changed {
		return false, err
	}
	return true, s.write(key, newFileRecord(key, sl))
}
