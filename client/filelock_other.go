//go:build !unix

package client

import (
	"context"
	"errors"
	"io/fs"
	"os"
)

// The FileStore needs Unix file modes and flock(2); elsewhere (Windows),
// use the KeyringStore.
var errNoFileStore = errors.New("client: the FileStore works on Unix systems only; use NewKeyringStore")

func ownedByMe(fs.FileInfo) bool { return false }

func openPrivate(string) (*os.File, error) { return nil, errNoFileStore }

func lockFile(context.Context, string) (func(), error) { return nil, errNoFileStore }

// openOwned opens path for reading; file owners are a Unix notion here.
func openOwned(path string) (*os.File, error) { return os.Open(path) }
