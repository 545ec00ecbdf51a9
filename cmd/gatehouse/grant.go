package main

import (
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

func newGrantCmd(c *common, e env) *cobra.Command {
	grant := &cobra.Command{Use: "grant", Short: "List and revoke grants (what a user allowed an app)"}
	var username, clientID string
	list := &cobra.Command{
		Use:   "list --user NAME | --app CLIENT_ID",
		Short: "List the grants of a user, of an app, or of a user for an app",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if username == "" && clientID == "" {
				return errors.New("grant list needs --user NAME or --app CLIENT_ID (or both)")
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				st, ctx := srv.Store(), cmd.Context()
				var userID, appID int64
				if username != "" {
					u, err := st.GetUserByUsername(ctx, username)
					if errors.Is(err, gatehouse.ErrNotFound) {
						return fmt.Errorf("no user is named %q", username)
					} else if err != nil {
						return err
					}
					userID = u.ID
				}
				if clientID != "" {
					a, err := st.GetApp(ctx, clientID)
					if errors.Is(err, gatehouse.ErrNotFound) {
						return fmt.Errorf("no app has client_id %q", clientID)
					} else if err != nil {
						return err
					}
					appID = a.ID
				}
				grants, err := st.ListGrants(ctx, userID, appID)
				if err != nil {
					return fmt.Errorf("list grants: %w", err)
				}
				return printGrants(cmd, c, e, st, grants)
			})
		},
	}
	list.Flags().StringVar(&username, "user", "", "the user's username")
	list.Flags().StringVar(&clientID, "app", "", "the app's client_id")
	var yes bool
	revoke := &cobra.Command{
		Use:   "revoke ID [--yes]",
		Short: "Revoke a grant and every token issued in it, at once",
		Long: "Revoke a grant and every access and refresh token issued in it, at once. On a terminal it\n" +
			"asks you to type the grant's ID; elsewhere it needs --yes.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("a grant ID is a positive number, as 'gatehouse grant list' shows it, not %q", args[0])
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				g, err := srv.Store().GetGrant(cmd.Context(), id)
				if errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no grant has ID %d", id)
				}
				if err != nil {
					return fmt.Errorf("look up grant: %w", err)
				}
				what := fmt.Sprintf("revoke grant %d: every access and refresh token issued in it stops at once", g.ID)
				if err := confirm(e, yes, what, strconv.FormatInt(g.ID, 10)); err != nil {
					return err
				}
				g, err = srv.RevokeGrantByOperator(cmd.Context(), id)
				if errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no grant has ID %d", id)
				}
				if err != nil {
					return err
				}
				if c.json() {
					return printJSON(e, map[string]any{"id": g.ID, "status": "revoked", "revoked_at": g.RevokedAt.Format(time.RFC3339)})
				}
				fmt.Fprintf(e.stdout, "revoked grant %d and every token issued in it\n", g.ID)
				return nil
			})
		},
	}
	revoke.Flags().BoolVar(&yes, "yes", false, "revoke without asking (for scripts)")
	grant.AddCommand(list, revoke)
	return grant
}

// printGrants prints grants with usernames and client_ids, not internal
// numbers (the grant's own ID is what 'grant revoke' takes).
func printGrants(cmd *cobra.Command, c *common, e env, st gatehouse.Store, grants []gatehouse.Grant) error {
	type row struct {
		ID        int64  `json:"id"`
		User      string `json:"user"`
		App       string `json:"app"`
		Scopes    string `json:"scope"`
		CreatedAt string `json:"created_at"`
		RevokedAt string `json:"revoked_at,omitempty"`
	}
	// A user's grants share one user, an app's one app: each is read once.
	users, apps := map[int64]gatehouse.User{}, map[int64]gatehouse.App{}
	rows := make([]row, 0, len(grants))
	for _, g := range grants {
		u, ok := users[g.UserID]
		if !ok {
			var err error
			if u, err = st.GetUser(cmd.Context(), g.UserID); err != nil {
				return fmt.Errorf("list grants: %w", err)
			}
			users[g.UserID] = u
		}
		a, ok := apps[g.AppID]
		if !ok {
			var err error
			if a, err = st.GetAppByID(cmd.Context(), g.AppID); err != nil {
				return fmt.Errorf("list grants: %w", err)
			}
			apps[g.AppID] = a
		}
		r := row{ID: g.ID, User: u.Username, App: a.ClientID, Scopes: strings.Join(g.Scopes, " "), CreatedAt: g.CreatedAt.Format(time.RFC3339)}
		if !g.RevokedAt.IsZero() {
			r.RevokedAt = g.RevokedAt.Format(time.RFC3339)
		}
		rows = append(rows, r)
	}
	if c.json() {
		return printJSON(e, rows)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tAPP\tSCOPE\tCREATED\tSTATUS")
	for _, r := range rows {
		status := "active"
		if r.RevokedAt != "" {
			status = "revoked " + r.RevokedAt
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.User, r.App, r.Scopes, r.CreatedAt, status)
	}
	return tw.Flush()
}
