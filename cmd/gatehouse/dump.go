package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/dump"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/sqlite"
)

// exporter and importer are the backends that can write and read dumps.
type exporter interface {
	Export(ctx context.Context, w *dump.Writer) error
}

type importer interface {
	Import(ctx context.Context, r *dump.Reader) (int64, error)
}

// backendName names a store's backend in dumps.
func backendName(s gatehouse.Store) string {
	switch s.(type) {
	case *sqlite.Store:
		return "sqlite"
	case *postgres.Store:
		return "postgres"
	}
	return "unknown"
}

func newExportCmd(c *common, e env) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "export [--file PATH]",
		Short: "Write every record of the database to a dump (stdout by default)",
		Long: `Write every row of every data table of the database (--db) to a dump: apps,
credentials, users, consents, grants, codes, sessions, devices, the audit log and live
tokens, as the digests they are stored as. 'gatehouse import' reads it into
another database, of either backend. The export is one read transaction, a
consistent snapshot: a running server is fine for a backup, but stop it
before the export you move a deployment with, or what it does afterwards
(a revocation, a deletion) is lost, and what it revoked is live again.

A dump holds secret digests and password hashes: keep it like the database
(--file creates it with mode 0600; a shell redirect uses your umask). The
deployment that imports it must run with the same server key
(GATEHOUSE_SECRET_KEY), under which the digests were made.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			store, err := openStore(ctx, c.db, false)
			if err != nil {
				return err
			}
			defer store.Close()
			ex, ok := store.(exporter)
			if !ok {
				return errors.New("this database backend cannot export")
			}
			out := e.stdout
			if file != "" {
				f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return fmt.Errorf("export: %w", err)
				}
				defer f.Close()
				out = f
			}
			w, err := dump.NewWriter(out, backendName(store))
			if err != nil {
				return err
			}
			if err := ex.Export(ctx, w); err != nil {
				if file != "" {
					_ = os.Remove(file)
				}
				return err
			}
			if f, ok := out.(*os.File); ok && file != "" {
				if err := f.Sync(); err != nil {
					return fmt.Errorf("export: %w", err)
				}
			}
			tables, rows := w.Counts()
			fmt.Fprintf(e.stderr, "exported %d tables, %d rows\n", tables, rows)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "write the dump to this new file (mode 0600) instead of stdout")
	return cmd
}

func newImportCmd(c *common, e env) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "import [--file PATH]",
		Short: "Read a dump (stdin by default) into a new, empty database",
		Long: `Read a dump written by 'gatehouse export' into the database --db names, which
is created and migrated if needed and must hold no records. The import is one
transaction: if anything is wrong (a truncated or damaged dump, a table this
version does not know or lacks, a constraint), nothing is imported.

Run the imported deployment with the server key of the exported one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var in io.Reader = e.stdin
			if file != "" {
				f, err := os.Open(file)
				if err != nil {
					return fmt.Errorf("import: %w", err)
				}
				defer f.Close()
				in = f
			}
			r, err := dump.NewReader(in)
			if err != nil {
				return err
			}
			store, err := openStore(ctx, c.db, true)
			if err != nil {
				return err
			}
			defer store.Close()
			im, ok := store.(importer)
			if !ok {
				return errors.New("this database backend cannot import")
			}
			if err := store.Migrate(ctx); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			n, err := im.Import(ctx, r)
			if err != nil {
				return err
			}
			if c.json() {
				return printJSON(e, map[string]any{"status": "imported", "rows": n, "source": r.Source})
			}
			fmt.Fprintf(e.stdout, "imported %d rows from a %q dump\n", n, r.Source)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "read the dump from this file instead of stdin")
	return cmd
}
