package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

func newScopeCmd(c *common, e env) *cobra.Command {
	scope := &cobra.Command{Use: "scope", Short: "Manage scopes"}
	var description string
	create := &cobra.Command{
		Use:   "create NAME --description TEXT",
		Short: "Register a scope",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				s, err := srv.CreateScope(cmd.Context(), args[0], description)
				if err != nil {
					return err
				}
				if c.json() {
					return printJSON(e, map[string]string{"name": s.Name, "description": s.Description})
				}
				fmt.Fprintf(e.stdout, "created scope %s\n", s.Name)
				return nil
			})
		},
	}
	create.Flags().StringVar(&description, "description", "", "what the scope allows, as users will read it")
	list := &cobra.Command{
		Use:   "list",
		Short: "List scopes, by name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				scopes, err := srv.Store().ListScopes(cmd.Context())
				if err != nil {
					return fmt.Errorf("list scopes: %w", err)
				}
				if c.json() {
					out := make([]map[string]string, 0, len(scopes))
					for _, s := range scopes {
						out = append(out, map[string]string{"name": s.Name, "description": s.Description, "created_at": s.CreatedAt.Format(time.RFC3339)})
					}
					return printJSON(e, out)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tCREATED\tDESCRIPTION")
				for _, s := range scopes {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.CreatedAt.Format(time.DateOnly), s.Description)
				}
				return tw.Flush()
			})
		},
	}
	scope.AddCommand(create, list, newScopeDeleteCmd(c, e))
	return scope
}

func newUserCmd(c *common, e env) *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Manage users"}
	var username string
	var fromStdin, developer bool
	create := &cobra.Command{
		Use:   "create --username NAME --password-stdin [--developer]",
		Short: "Create a local user; the password is read from stdin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !fromStdin {
				return errors.New("the password is read from standard input: pass --password-stdin (never on the command line)")
			}
			password, err := readSecretLine(e.stdin)
			if err != nil {
				return err
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				u, err := srv.RegisterUser(cmd.Context(), oauth.UserSpec{Username: username, Password: password, Developer: developer})
				if err != nil {
					return err
				}
				if c.json() {
					return printJSON(e, map[string]any{"id": u.ID, "username": u.Username, "sub": oauth.UserSubject(u.ID), "developer": u.Developer})
				}
				if u.Developer {
					fmt.Fprintf(e.stdout, "created user %s, a developer\n", u.Username)
					return nil
				}
				fmt.Fprintf(e.stdout, "created user %s\n", u.Username)
				return nil
			})
		},
	}
	create.Flags().StringVar(&username, "username", "", "the login name")
	create.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input")
	create.Flags().BoolVar(&developer, "developer", false, "let the user use the developer portal (the apps they own: app create --owner)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List local users (never their password hashes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				users, err := srv.Store().ListUsers(cmd.Context())
				if err != nil {
					return fmt.Errorf("list users: %w", err)
				}
				if c.json() {
					out := make([]map[string]any, 0, len(users))
					for _, u := range users {
						out = append(out, map[string]any{"username": u.Username, "created_at": u.CreatedAt.Format(time.RFC3339), "developer": u.Developer})
					}
					return printJSON(e, out)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USERNAME\tCREATED\tDEVELOPER")
				for _, u := range users {
					dev := "no"
					if u.Developer {
						dev = "yes"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Username, u.CreatedAt.Format(time.RFC3339), dev)
				}
				return tw.Flush()
			})
		},
	}
	user.AddCommand(create, list, newUserUpdateCmd(c, e), newUserDeleteCmd(c, e), newUserSetPasswordCmd(c, e))
	return user
}

// readSecretLine reads one line, without its line ending, from r.
func readSecretLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, oauth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("standard input is empty: pipe the password in")
	}
	return line, nil
}

type appOutput struct {
	ClientID       string              `json:"client_id"`
	ClientSecret   string              `json:"client_secret,omitempty"`
	Name           string              `json:"name"`
	Type           gatehouse.AppType   `json:"type"`
	RedirectURIs   []string            `json:"redirect_uris"`
	Scopes         []string            `json:"scopes"`
	DefaultScopes  []string            `json:"default_scopes"`
	Grants         []string            `json:"grant_types"`
	ResourceServer bool                `json:"resource_server"`
	CreatedAt      time.Time           `json:"created_at"`
	Owner          string              `json:"owner"` // a username; "": none
	Description    string              `json:"description"`
	HomepageURL    string              `json:"homepage_url"`
	PrivacyURL     string              `json:"privacy_url"`
	TermsURL       string              `json:"terms_url"`
	Credentials    []credentialsOutput `json:"credentials,omitempty"`
}

type credentialsOutput struct {
	ID         int64      `json:"id"`
	Hint       string     `json:"hint"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// toOutput is the output of a, whose owner's username owner names.
func toOutput(a gatehouse.App, owner func(id int64) string) appOutput {
	return appOutput{
		ClientID: a.ClientID, Name: a.Name, Type: a.Type, RedirectURIs: nonNil(a.RedirectURIs),
		Scopes: nonNil(a.Scopes), DefaultScopes: nonNil(a.DefaultScopes), Grants: nonNil(a.Grants),
		ResourceServer: a.ResourceServer, CreatedAt: a.CreatedAt, Owner: owner(a.OwnerID),
		Description: a.Description, HomepageURL: a.HomepageURL, PrivacyURL: a.PrivacyURL, TermsURL: a.TermsURL,
	}
}

// ownerNames returns the username of an owner's ID ("" for none), looked
// up once per ID; an owner deleted meanwhile is "".
func ownerNames(ctx context.Context, srv *oauth.Server) func(id int64) string {
	names := map[int64]string{0: ""}
	return func(id int64) string {
		if n, ok := names[id]; ok {
			return n
		}
		if u, err := srv.Store().GetUser(ctx, id); err == nil {
			names[id] = u.Username
		}
		return names[id]
	}
}

// ownerID resolves the username of --owner to a user's ID; "" is none.
func ownerID(ctx context.Context, srv *oauth.Server, username string) (int64, error) {
	if username == "" {
		return 0, nil
	}
	u, err := srv.UserNamed(ctx, username)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return 0, fmt.Errorf("--owner: no user is named %q (gatehouse user create)", username)
	}
	if err != nil {
		return 0, fmt.Errorf("look up the owner: %w", err)
	}
	return u.ID, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func newAppCmd(c *common, e env) *cobra.Command {
	app := &cobra.Command{Use: "app", Short: "Manage apps (OAuth clients)"}
	app.AddCommand(newAppCreateCmd(c, e), newAppListCmd(c, e), newAppShowCmd(c, e), newAppUpdateCmd(c, e), newAppDeleteCmd(c, e))
	return app
}

func newAppCreateCmd(c *common, e env) *cobra.Command {
	var spec oauth.AppSpec
	var typ, owner string
	cmd := &cobra.Command{
		Use: "create --name NAME --type confidential|public --redirect-uri URI… --scope S… [--grant G…] [--resource-server]\n" +
			"  [--owner USERNAME] [--description TEXT] [--homepage URL] [--privacy-url URL] [--terms-url URL]",
		Short: "Register an app; a confidential app's client_secret is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec.Type = gatehouse.AppType(typ)
			if !cmd.Flags().Changed("grant") {
				spec.Grants = nil
			}
			if !cmd.Flags().Changed("default-scope") {
				spec.DefaultScopes = nil
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				var err error
				if spec.OwnerID, err = ownerID(cmd.Context(), srv, owner); err != nil {
					return err
				}
				a, sec, err := srv.RegisterApp(cmd.Context(), spec)
				if err != nil {
					return err
				}
				out := toOutput(a, ownerNames(cmd.Context(), srv))
				out.ClientSecret = sec
				if c.json() {
					return printJSON(e, out)
				}
				fmt.Fprintf(e.stdout, "created %s app %q\nclient_id:     %s\n", a.Type, a.Name, a.ClientID)
				if sec != "" {
					fmt.Fprintf(e.stdout, "client_secret: %s\n(the secret is shown only now: store it in your secret manager)\n", sec)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Name, "name", "", "the app's name, as users will see it")
	f.StringVar(&typ, "type", "", "confidential (a backend keeps a secret) or public (SPA, mobile, desktop, CLI)")
	f.StringSliceVar(&spec.RedirectURIs, "redirect-uri", nil, "a redirect URI (repeat the flag for several)")
	f.StringSliceVar(&spec.Scopes, "scope", nil, "a scope the app may request (repeat or comma-separate)")
	f.StringSliceVar(&spec.DefaultScopes, "default-scope", nil, "a scope granted when a request names none (default: all of --scope)")
	f.StringSliceVar(&spec.Grants, "grant", nil, "a grant type: authorization_code, refresh_token, client_credentials, device_code (RFC 8628, for devices without a browser) (default: authorization_code,refresh_token; none for a resource server)")
	f.BoolVar(&spec.ResourceServer, "resource-server", false, "let this confidential app introspect every token, not only its own")
	f.StringVar(&owner, "owner", "", "the user (a developer) who owns the app in the developer portal")
	profileFlags(cmd, &spec.Description, &spec.HomepageURL, &spec.PrivacyURL, &spec.TermsURL)
	return cmd
}

// profileFlags defines the flags of an app's profile, shown to users on
// the consent page.
func profileFlags(cmd *cobra.Command, description, homepage, privacy, terms *string) {
	f := cmd.Flags()
	f.StringVar(description, "description", "", "what the app does, in one paragraph of at most 500 characters")
	f.StringVar(homepage, "homepage", "", "the app's homepage (https://)")
	f.StringVar(privacy, "privacy-url", "", "the app's privacy policy (https://)")
	f.StringVar(terms, "terms-url", "", "the app's terms of service (https://)")
}

func newAppListCmd(c *common, e env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List apps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				apps, err := srv.Store().ListApps(cmd.Context())
				if err != nil {
					return fmt.Errorf("list apps: %w", err)
				}
				if c.json() {
					out := make([]appOutput, len(apps))
					owner := ownerNames(cmd.Context(), srv)
					for i, a := range apps {
						out[i] = toOutput(a, owner)
					}
					return printJSON(e, out)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CLIENT_ID\tTYPE\tNAME")
				for _, a := range apps {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", a.ClientID, a.Type, a.Name)
				}
				return tw.Flush()
			})
		},
	}
}

func newAppShowCmd(c *common, e env) *cobra.Command {
	return &cobra.Command{
		Use:   "show CLIENT_ID",
		Short: "Show an app and its credentials (never their secrets)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				a, err := srv.Store().GetApp(cmd.Context(), args[0])
				if errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no app has client_id %q", args[0])
				}
				if err != nil {
					return fmt.Errorf("show app: %w", err)
				}
				creds, err := srv.Store().ListCredentials(cmd.Context(), a.ID)
				if err != nil {
					return fmt.Errorf("show app: %w", err)
				}
				out := toOutput(a, ownerNames(cmd.Context(), srv))
				for _, cr := range creds {
					out.Credentials = append(out.Credentials, credentialsOutput{
						ID: cr.ID, Hint: "…" + cr.Hint, CreatedAt: cr.CreatedAt,
						ExpiresAt: optTime(cr.ExpiresAt), LastUsedAt: optTime(cr.LastUsedAt),
					})
				}
				if c.json() {
					return printJSON(e, out)
				}
				printApp(e, out)
				return nil
			})
		},
	}
}

func printApp(e env, a appOutput) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "client_id:\t%s\nname:\t%s\ntype:\t%s\n", a.ClientID, a.Name, a.Type)
	fmt.Fprintf(tw, "redirect_uris:\t%s\nscopes:\t%s\ndefault_scopes:\t%s\ngrant_types:\t%s\n",
		strings.Join(a.RedirectURIs, " "), strings.Join(a.Scopes, " "), strings.Join(a.DefaultScopes, " "), strings.Join(a.Grants, " "))
	fmt.Fprintf(tw, "resource_server:\t%t\ncreated_at:\t%s\n", a.ResourceServer, a.CreatedAt.Format(time.RFC3339))
	for _, l := range [][2]string{{"owner", a.Owner}, {"description", a.Description}, {"homepage_url", a.HomepageURL},
		{"privacy_url", a.PrivacyURL}, {"terms_url", a.TermsURL}} {
		if l[1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", l[0], l[1])
		}
	}
	for _, cr := range a.Credentials {
		last := "never used"
		if cr.LastUsedAt != nil {
			last = "last used " + cr.LastUsedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "credential %d:\t%s, created %s, %s\n", cr.ID, cr.Hint, cr.CreatedAt.Format(time.RFC3339), last)
	}
	_ = tw.Flush()
}

func newAppDeleteCmd(c *common, e env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete CLIENT_ID [--yes]",
		Short: "Delete an app: its credentials and every token it holds stop working at once",
		Long: "Delete an app with its credentials, grants, codes and tokens: every token it holds stops\n" +
			"working at once. On a terminal it asks you to type the client_id; elsewhere it needs --yes.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				a, err := srv.Store().GetApp(cmd.Context(), args[0])
				if errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no app has client_id %q", args[0])
				}
				if err != nil {
					return err
				}
				what := fmt.Sprintf("delete app %s (%q): its credentials and every token it holds stop working at once", a.ClientID, a.Name)
				if err := confirm(e, yes, what, a.ClientID); err != nil {
					return err
				}
				err = srv.DeleteApp(cmd.Context(), args[0])
				if errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no app has client_id %q", args[0])
				}
				if err != nil {
					return err
				}
				if c.json() {
					return printJSON(e, map[string]string{"client_id": args[0], "status": "deleted"})
				}
				fmt.Fprintf(e.stdout, "deleted app %s with its credentials, grants and tokens\n", args[0])
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking (for scripts)")
	return cmd
}
