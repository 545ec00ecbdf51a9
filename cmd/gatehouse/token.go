package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

func newTokenCmd(c *common, e env) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Revoke one leaked token"}
	var fromStdin bool
	revoke := &cobra.Command{
		Use:   "revoke --token-stdin",
		Short: "Revoke one token read from stdin: an access token, a refresh token (its whole grant), a code or a session",
		Long: "Revoke one token, read from standard input (never from the command line, where 'ps' and\n" +
			"the shell history would keep it). An access token stops alone; a refresh token stops with its\n" +
			"whole grant and every access token issued in it; an authorization code with everything issued\n" +
			"from it; a login session ends. Every instance refuses it from the next request on.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !fromStdin {
				return errors.New("the token is read from standard input: pass --token-stdin (never on the command line)")
			}
			token, err := readSecretLine(e.stdin)
			token = strings.TrimSpace(token) // a pasted token often carries a space
			if err != nil || token == "" {
				return errors.New("standard input is empty: pipe the token in (for example: pbpaste | gatehouse token revoke --token-stdin)")
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				r, err := srv.RevokeByOperator(cmd.Context(), token)
				if err != nil {
					return err
				}
				st := srv.Store()
				clientID, username := "", ""
				if r.AppID != 0 {
					if a, err := st.GetAppByID(cmd.Context(), r.AppID); err == nil {
						clientID = a.ClientID
					}
				}
				if r.UserID != 0 {
					if u, err := st.GetUser(cmd.Context(), r.UserID); err == nil {
						username = u.Username
					} else if !errors.Is(err, gatehouse.ErrNotFound) {
						return fmt.Errorf("look up user: %w", err)
					}
				}
				status := "revoked"
				if r.Already {
					status = "already revoked or expired"
				}
				if c.json() {
					out := map[string]any{"status": status, "kind": r.Kind}
					if clientID != "" {
						out["client_id"] = clientID
					}
					if username != "" {
						out["user"] = username
					}
					if r.GrantID != 0 {
						out["grant_id"] = r.GrantID
					}
					return printJSON(e, out)
				}
				fmt.Fprintf(e.stdout, "%s: %s", status, r.Kind)
				if clientID != "" {
					fmt.Fprintf(e.stdout, " of app %s", clientID)
				}
				if username != "" {
					fmt.Fprintf(e.stdout, " for user %s", username)
				}
				if r.GrantID != 0 && r.Kind != "access token" {
					fmt.Fprintf(e.stdout, " (grant %d and every token issued in it)", r.GrantID)
				}
				fmt.Fprintln(e.stdout)
				return nil
			})
		},
	}
	revoke.Flags().BoolVar(&fromStdin, "token-stdin", false, "read the token from standard input")
	cmd.AddCommand(revoke)
	return cmd
}
