package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/secret"
	"github.com/gatehouse/gatehouse/sqlite"
)

// run executes one command line and returns the exit code. Errors are one
// line on stderr.
func run(ctx context.Context, args []string, e env) int {
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(e.stderr, "gatehouse: "+redactSecrets(oneLine(err), args))
		if st := (*exitStatus)(nil); errors.As(err, &st) {
			return st.code
		}
		return 1
	}
	return 0
}

// redactSecrets keeps a token or secret that was (wrongly) given as an
// argument out of the error message, which may end up in a log or a
// terminal recording: DESIGN invariant 8.
func redactSecrets(msg string, args []string) string {
	redacted := false
	for _, a := range args {
		if _, err := secret.Parse(a); err == nil && strings.Contains(msg, a) {
			msg = strings.ReplaceAll(msg, a, "[a secret, redacted]")
			redacted = true
		}
	}
	if redacted {
		msg += " (never pass a token or secret on the command line: ps and the shell history keep it; use --token-stdin or --password-stdin)"
	}
	return msg
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

func newRoot(e env) *cobra.Command {
	c := &common{}
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "Gatehouse: an OAuth 2.0 authorization server",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			c.resolve(e.getenv)
			return c.validateOutput()
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&c.dataDir, "data-dir", "", "data directory (env GATEHOUSE_DATA_DIR, default ./gatehouse-data)")
	pf.StringVar(&c.db, "db", "", "database: sqlite:PATH or postgres://… (env GATEHOUSE_DB, default sqlite:<data-dir>/gatehouse.db)")
	pf.StringVarP(&c.output, "output", "o", "text", "output format: text or json")
	root.AddCommand(newServeCmd(c, e), newMigrateCmd(c, e), newScopeCmd(c, e), newAppCmd(c, e), newUserCmd(c, e), newAuditCmd(c, e), newBenchCmd(c, e), newExportCmd(c, e), newImportCmd(c, e), newGrantCmd(c, e), newCredentialCmd(c, e), newTokenCmd(c, e), newVersionCmd(c, e))
	requireSubcommands(root)
	return root
}

// requireSubcommands makes every command that only groups others (app,
// user, …) refuse an argument that names none of them, with the nearest
// match, instead of printing its help and exiting 0; with no argument it
// prints its help. The root is included, so that every level says the same.
func requireSubcommands(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		requireSubcommands(sub)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if near := nearest(cmd, args[0]); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		}
		return fmt.Errorf("%s; run '%s --help' for the list", msg, cmd.CommandPath())
	}
}

// nearest returns the subcommand of cmd whose name is closest to arg, if
// any is close (cobra's suggestions: a prefix, or within two edits).
func nearest(cmd *cobra.Command, arg string) string {
	best, bestDist := "", -1
	for _, s := range cmd.SuggestionsFor(arg) {
		d := editDistance(strings.ToLower(arg), s)
		if bestDist < 0 || d < bestDist {
			best, bestDist = s, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// openStore opens the database that dsn names. Unless create is set, a
// SQLite file must exist already, so that a command run from the wrong
// directory says so instead of working on a new empty database.
func openStore(ctx context.Context, dsn string, create bool) (gatehouse.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, errors.New("--db sqlite: needs a path, as in sqlite:./gatehouse-data/gatehouse.db")
		}
		if path != ":memory:" {
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				if !create {
					return nil, fmt.Errorf("database %s does not exist: run 'gatehouse migrate' (or 'gatehouse serve --dev') first, or pass --db / --data-dir", path)
				}
				if err := createPrivateFile(path); err != nil {
					return nil, err
				}
			}
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return s, nil
	case isPostgres(dsn):
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return s, nil
	default:
		return nil, errors.New("--db must be sqlite:PATH or postgres://…")
	}
}

// isPostgres reports whether dsn names a PostgreSQL database.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// withServer opens and migrates the store, builds the protocol engine with
// the server key, runs f and closes the store.
func withServer(ctx context.Context, c *common, e env, f func(*oauth.Server) error) error {
	key, warning, err := loadKey(e.getenv, c.dataDir)
	if err != nil {
		return err
	}
	if warning != "" {
		fmt.Fprintln(e.stderr, "gatehouse: warning: "+warning)
	}
	if key == nil {
		return fmt.Errorf("no server key: set GATEHOUSE_SECRET_KEY or GATEHOUSE_SECRET_KEY_FILE, or run 'gatehouse serve --dev' once to create %s", filepath.Join(c.dataDir, keyFileName))
	}
	store, err := openStore(ctx, c.db, false)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// The issuer does not matter to administration commands; it is checked
	// by serve.
	srv, err := oauth.NewServer(store, key, oauth.Config{Issuer: "https://gatehouse.invalid"}, oauth.Options{Actor: gatehouse.ActorOperator})
	if err != nil {
		return err
	}
	return f(srv)
}

func printJSON(e env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func newMigrateCmd(c *common, e env) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or update the database schema",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := openStore(cmd.Context(), c.db, true)
			if err != nil {
				return err
			}
			defer store.Close()
			if err := store.Migrate(cmd.Context()); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			if c.json() {
				return printJSON(e, map[string]string{"status": "migrated"})
			}
			fmt.Fprintln(e.stdout, "database is up to date")
			return nil
		},
	}
}

// createPrivateFile creates an empty database file readable by its owner
// only; SQLite gives its -wal and -shm files the same mode.
func createPrivateFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	return nil
}
