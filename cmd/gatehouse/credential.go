package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

// credentialOutput is a credential as the command line shows it: never
// its secret.
type credentialOutput struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Hint       string     `json:"hint"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	Expired    bool       `json:"expired"`
}

func toCredentialOutput(c gatehouse.Credential, now time.Time) credentialOutput {
	return credentialOutput{
		ID: c.ID, Name: c.Name, Hint: "…" + c.Hint, CreatedAt: c.CreatedAt,
		ExpiresAt: optTime(c.ExpiresAt), LastUsedAt: optTime(c.LastUsedAt), Expired: c.Expired(now),
	}
}

func newCredentialCmd(c *common, e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credential",
		Short: "Manage the client secrets of a confidential app: create, list, rotate, delete",
		Long: "A confidential app holds up to 5 unexpired credentials (client secrets). Rotate them\n" +
			"regularly ('credential rotate': both secrets work during the overlap, nothing is revoked);\n" +
			"delete one that leaked ('credential delete': every token and grant of the app is revoked).",
	}
	cmd.AddCommand(newCredentialCreateCmd(c, e), newCredentialListCmd(c, e), newCredentialRotateCmd(c, e), newCredentialDeleteCmd(c, e))
	return cmd
}

// confidentialApp looks up the app named by --app for a credential command
// that gives it a secret: a public app never has one.
func confidentialApp(ctx context.Context, srv *oauth.Server, clientID string) (gatehouse.App, error) {
	a, err := anyApp(ctx, srv, clientID)
	if err == nil && a.Type != gatehouse.Confidential {
		return gatehouse.App{}, fmt.Errorf("app %s is public: a public app never has a secret", a.ClientID)
	}
	return a, err
}

// anyApp looks up the app named by --app for a credential command that
// lists or deletes: a public app holding a credential (written into the
// database past every check; 'gatehouse audit' reports it) can be
// inspected and cleaned.
func anyApp(ctx context.Context, srv *oauth.Server, clientID string) (gatehouse.App, error) {
	if clientID == "" {
		return gatehouse.App{}, errors.New("missing --app CLIENT_ID")
	}
	a, err := srv.Store().GetApp(ctx, clientID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return gatehouse.App{}, fmt.Errorf("no app has client_id %q", clientID)
	}
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("look up app: %w", err)
	}
	return a, nil
}

// credentialID parses --credential.
func credentialID(raw string) (int64, error) {
	if raw == "" {
		return 0, errors.New("missing --credential ID (the ID that 'gatehouse credential list' shows)")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("a credential ID is a positive number, as 'gatehouse credential list' shows it, not %q", raw)
	}
	return id, nil
}

// parseDays parses a duration that may be given in days ("7d", "90d") or
// as Go writes durations ("36h", "90m").
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (say 7d, 36h or 90m)", s)
	}
	return d, nil
}

// printSecret prints a new credential and its secret, once.
func printSecret(c *common, e env, clientID, sec string, cr gatehouse.Credential, extra map[string]any) error {
	if c.json() {
		out := map[string]any{"client_id": clientID, "credential_id": cr.ID, "name": cr.Name, "hint": "…" + cr.Hint,
			"client_secret": sec, "created_at": cr.CreatedAt}
		if !cr.ExpiresAt.IsZero() {
			out["expires_at"] = cr.ExpiresAt
		}
		for k, v := range extra {
			out[k] = v
		}
		return printJSON(e, out)
	}
	fmt.Fprintf(e.stdout, "credential %d (%s) of %s\nclient_secret: %s\n(the secret is shown only now: store it in your secret manager)\n", cr.ID, cr.Name, clientID, sec)
	return nil
}

func newCredentialCreateCmd(c *common, e env) *cobra.Command {
	var clientID, name, expiresIn string
	cmd := &cobra.Command{
		Use:   "create --app CLIENT_ID --name NAME [--expires-in 90d]",
		Short: "Create a new client secret for a confidential app; it is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return errors.New("missing --name NAME (a label that tells credentials apart: ci, prod-2026)")
			}
			var ttl time.Duration
			if expiresIn != "" {
				d, err := parseDays(expiresIn)
				if err != nil {
					return fmt.Errorf("--expires-in: %w", err)
				}
				if d <= 0 {
					return errors.New("--expires-in must be positive")
				}
				ttl = d
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				a, err := confidentialApp(cmd.Context(), srv, clientID)
				if err != nil {
					return err
				}
				var expires time.Time
				if ttl > 0 {
					expires = time.Now().Add(ttl)
				}
				sec, cr, err := srv.CreateCredential(cmd.Context(), a, name, expires)
				if err != nil {
					return err
				}
				return printSecret(c, e, a.ClientID, sec, cr, nil)
			})
		},
	}
	cmd.Flags().StringVar(&clientID, "app", "", "the app's client_id")
	cmd.Flags().StringVar(&name, "name", "", "a label that tells the app's credentials apart")
	cmd.Flags().StringVar(&expiresIn, "expires-in", "", "make the credential expire after this long (say 90d); default: never")
	return cmd
}

func newCredentialListCmd(c *common, e env) *cobra.Command {
	var clientID string
	cmd := &cobra.Command{
		Use:   "list --app CLIENT_ID",
		Short: "List an app's credentials: name, hint, age, last use, expiry (never a secret)",
		Long: "List an app's credentials. The last use is recorded at most once a minute per credential\n" +
			"and instance, so it may be up to a minute stale.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				a, err := anyApp(cmd.Context(), srv, clientID)
				if err != nil {
					return err
				}
				creds, err := srv.Store().ListCredentials(cmd.Context(), a.ID)
				if err != nil {
					return fmt.Errorf("list credentials: %w", err)
				}
				now := time.Now()
				out := make([]credentialOutput, len(creds))
				for i, cr := range creds {
					out[i] = toCredentialOutput(cr, now)
				}
				if c.json() {
					return printJSON(e, out)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tHINT\tAGE\tLAST USED\tEXPIRES")
				for _, cr := range out {
					last, expires := "never", "never"
					if cr.LastUsedAt != nil {
						last = ago(now, *cr.LastUsedAt)
					}
					if cr.ExpiresAt != nil {
						expires = cr.ExpiresAt.Format(time.RFC3339)
						if cr.Expired {
							expires = "expired " + ago(now, *cr.ExpiresAt)
						}
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", cr.ID, cr.Name, cr.Hint, age(now, cr.CreatedAt), last, expires)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&clientID, "app", "", "the app's client_id")
	return cmd
}

// age says how long ago t was, in the largest whole unit.
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
}

func ago(now, t time.Time) string {
	if t.After(now) {
		return "in " + age(t, now)
	}
	return age(now, t) + " ago"
}

func newCredentialRotateCmd(c *common, e env) *cobra.Command {
	var clientID, rawID, overlap, name string
	cmd := &cobra.Command{
		Use:   "rotate --app CLIENT_ID --credential ID [--overlap 7d] [--name NAME]",
		Short: "Replace a credential: a new secret now, the old one expires after the overlap; nothing is revoked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := credentialID(rawID)
			if err != nil {
				return err
			}
			d, err := parseDays(overlap)
			if err != nil {
				return fmt.Errorf("--overlap: %w", err)
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				a, err := confidentialApp(cmd.Context(), srv, clientID)
				if err != nil {
					return err
				}
				sec, next, old, err := srv.RotateCredential(cmd.Context(), a, id, d, name)
				if err != nil {
					return err
				}
				if !c.json() {
					fmt.Fprintf(e.stdout, "credential %d (%s) keeps working until %s; deploy the new secret before then\n",
						old.ID, old.Name, old.ExpiresAt.Format(time.RFC3339))
				}
				return printSecret(c, e, a.ClientID, sec, next, map[string]any{"rotated_credential_id": old.ID, "rotated_expires_at": old.ExpiresAt})
			})
		},
	}
	cmd.Flags().StringVar(&clientID, "app", "", "the app's client_id")
	cmd.Flags().StringVar(&rawID, "credential", "", "the ID of the credential to replace")
	cmd.Flags().StringVar(&overlap, "overlap", "7d", "how long the old secret keeps working beside the new one (0 ends it now)")
	cmd.Flags().StringVar(&name, "name", "", "the new credential's name (default: the old one's)")
	return cmd
}

func newCredentialDeleteCmd(c *common, e env) *cobra.Command {
	var clientID, rawID string
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete --app CLIENT_ID --credential ID [--yes]",
		Short: "Delete a leaked credential: it stops at once, and every token and grant of the app is revoked",
		Long: "Delete a credential as compromised: it stops authenticating at once and every access and\n" +
			"refresh token of the app, and every grant of the app, is revoked with it (users connect the\n" +
			"app again). For routine replacement use 'credential rotate', which revokes nothing.\n" +
			"On a terminal it asks you to type the credential's name; elsewhere it needs --yes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := credentialID(rawID)
			if err != nil {
				return err
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				a, err := anyApp(cmd.Context(), srv, clientID)
				if err != nil {
					return err
				}
				target, err := srv.CredentialOf(cmd.Context(), a, id)
				if err != nil {
					return err
				}
				what := fmt.Sprintf("delete credential %d (%s, …%s) of %s: it stops at once, and EVERY access and refresh token and every grant of the app is revoked",
					target.ID, target.Name, target.Hint, a.ClientID)
				if err := confirm(e, yes, what, target.Name); err != nil {
					return err
				}
				cr, r, err := srv.RevokeCredential(cmd.Context(), a, id)
				if err != nil {
					return err
				}
				if c.json() {
					return printJSON(e, map[string]any{"client_id": a.ClientID, "credential_id": cr.ID, "status": "deleted",
						"tokens_revoked": r.Tokens, "grants_revoked": r.Grants})
				}
				fmt.Fprintf(e.stdout, "deleted credential %d (%s) of %s; revoked %d tokens and %d grants\n", cr.ID, cr.Name, a.ClientID, r.Tokens, r.Grants)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&clientID, "app", "", "the app's client_id")
	cmd.Flags().StringVar(&rawID, "credential", "", "the ID of the credential to delete")
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking (for scripts)")
	return cmd
}
