package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

// appUpdateFlags are the flags of 'app update', each changing only what it
// names.
var appUpdateFlags = []string{"name", "redirect-uri", "scope", "default-scope", "grant", "resource-server",
	"owner", "description", "homepage", "privacy-url", "terms-url"}

func newAppUpdateCmd(c *common, e env) *cobra.Command {
	var name, owner, description, homepage, privacy, terms string
	var redirectURIs, scopes, defaultScopes, grants []string
	var resourceServer bool
	cmd := &cobra.Command{
		Use: "update CLIENT_ID [--name N] [--redirect-uri URI…] [--scope S…] [--default-scope S…] [--grant G…] [--resource-server=true|false]\n" +
			"  [--owner USERNAME|''] [--description TEXT] [--homepage URL] [--privacy-url URL] [--terms-url URL]",
		Short: "Change an app; each flag replaces only what it names, under the rules of 'app create'",
		Long: "Change an app's name, redirect URIs, scopes, default scopes, grant types, resource server\n" +
			"flag, owner or profile. A list flag replaces the whole list (repeat it or comma-separate; ''\n" +
			"empties it); --owner '' leaves the app without an owner, and '' removes a profile field;\n" +
			"what no flag names stays. The type never changes. A running server sees the change at once.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			var change oauth.AppChange
			if f.Changed("name") {
				change.Name = &name
			}
			for _, t := range []struct {
				flag string
				dst  **string
				val  *string
			}{
				{"description", &change.Description, &description},
				{"homepage", &change.HomepageURL, &homepage},
				{"privacy-url", &change.PrivacyURL, &privacy},
				{"terms-url", &change.TermsURL, &terms},
			} {
				if f.Changed(t.flag) {
					*t.dst = t.val
				}
			}
			for _, l := range []struct {
				flag string
				dst  **[]string
				val  *[]string
			}{
				{"redirect-uri", &change.RedirectURIs, &redirectURIs},
				{"scope", &change.Scopes, &scopes},
				{"default-scope", &change.DefaultScopes, &defaultScopes},
				{"grant", &change.Grants, &grants},
			} {
				if f.Changed(l.flag) {
					*l.dst = l.val
				}
			}
			if f.Changed("resource-server") {
				change.ResourceServer = &resourceServer
			}
			if change == (oauth.AppChange{}) && !f.Changed("owner") {
				return fmt.Errorf("app update needs something to change: --%s", strings.Join(appUpdateFlags, ", --"))
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				if f.Changed("owner") {
					id, err := ownerID(cmd.Context(), srv, owner)
					if err != nil {
						return err
					}
					change.OwnerID = &id
				}
				a, changed, err := srv.UpdateApp(cmd.Context(), args[0], change)
				if errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no app has client_id %q", args[0])
				}
				if err != nil {
					return err
				}
				if c.json() {
					return printJSON(e, struct {
						appOutput
						Changed []string `json:"changed"`
					}{toOutput(a, ownerNames(cmd.Context(), srv)), nonNil(changed)})
				}
				if len(changed) == 0 {
					fmt.Fprintf(e.stdout, "app %s is already so: nothing changed\n", a.ClientID)
					return nil
				}
				fmt.Fprintf(e.stdout, "updated app %s: %s\n", a.ClientID, strings.Join(changed, ", "))
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "the app's new name")
	f.StringSliceVar(&redirectURIs, "redirect-uri", nil, "the redirect URIs, replacing the app's (repeat the flag for several)")
	f.StringSliceVar(&scopes, "scope", nil, "the scopes the app may request, replacing the app's")
	f.StringSliceVar(&defaultScopes, "default-scope", nil, "the scopes granted when a request names none, replacing the app's")
	f.StringSliceVar(&grants, "grant", nil, "the grant types, replacing the app's: authorization_code, refresh_token, client_credentials, device_code")
	f.BoolVar(&resourceServer, "resource-server", false, "whether this confidential app may introspect every token")
	f.StringVar(&owner, "owner", "", "the user (a developer) who owns the app in the developer portal; '' for none")
	profileFlags(cmd, &description, &homepage, &privacy, &terms)
	return cmd
}

func newUserUpdateCmd(c *common, e env) *cobra.Command {
	var developer bool
	cmd := &cobra.Command{
		Use:   "update USERNAME --developer[=false]",
		Short: "Change a user: whether they may use the developer portal",
		Long: "Change a user. --developer lets the user use the developer portal (the apps they own:\n" +
			"'gatehouse app create|update --owner'); --developer=false ends that at once (the apps keep\n" +
			"their owner, and the portal shows the user none).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("developer") {
				return errors.New("user update needs something to change: --developer or --developer=false")
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				u, changed, err := srv.SetDeveloper(cmd.Context(), args[0], developer)
				if errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no user is named %q", args[0])
				}
				if err != nil {
					return err
				}
				if c.json() {
					names := []string{}
					if changed {
						names = append(names, "developer")
					}
					return printJSON(e, map[string]any{"username": u.Username, "developer": u.Developer, "changed": names})
				}
				what := "a developer"
				if !u.Developer {
					what = "not a developer"
				}
				if !changed {
					fmt.Fprintf(e.stdout, "user %s is %s already: nothing changed\n", u.Username, what)
					return nil
				}
				fmt.Fprintf(e.stdout, "updated user %s: %s now\n", u.Username, what)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&developer, "developer", false, "whether the user may use the developer portal")
	return cmd
}

func newScopeDeleteCmd(c *common, e env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME [--yes]",
		Short: "Delete a scope that no app lists",
		Long: "Delete a scope. It is refused while an app lists it ('gatehouse app update' first); grants and\n" +
			"tokens issued with it keep it until they end. On a terminal it asks you to type the name;\n" +
			"elsewhere it needs --yes.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				name := args[0]
				err := srv.CheckScopeDeletable(cmd.Context(), name)
				if err == nil {
					if err := confirm(e, yes, fmt.Sprintf("delete scope %s", name), name); err != nil {
						return err
					}
					err = srv.DeleteScope(cmd.Context(), name)
				}
				if errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no scope is named %q", name)
				}
				if err != nil {
					return err
				}
				if c.json() {
					return printJSON(e, map[string]string{"name": name, "status": "deleted"})
				}
				fmt.Fprintf(e.stdout, "deleted scope %s\n", name)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking (for scripts)")
	return cmd
}

func newUserDeleteCmd(c *common, e env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete USERNAME [--yes]",
		Short: "Delete a user with their sessions, consents, grants and tokens, which stop working at once",
		Long: "Delete a user and everything of the user: login sessions, remembered devices, consents,\n" +
			"grants and every token issued in them; the apps the user owns stay, without an owner.\n" +
			"On a terminal it asks you to type the username;\n" +
			"elsewhere it needs --yes.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				u, err := srv.UserNamed(cmd.Context(), args[0])
				if errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no user is named %q", args[0])
				} else if err != nil {
					return fmt.Errorf("delete user: %w", err)
				}
				what := fmt.Sprintf("delete user %s: their sessions, grants and every token issued to their apps stop working at once", u.Username)
				if err := confirm(e, yes, what, u.Username); err != nil {
					return err
				}
				_, err = srv.DeleteUser(cmd.Context(), u.Username)
				if errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no user is named %q", args[0])
				}
				if err != nil {
					return err
				}
				if c.json() {
					return printJSON(e, map[string]string{"username": u.Username, "status": "deleted"})
				}
				fmt.Fprintf(e.stdout, "deleted user %s with their sessions, consents, grants and tokens\n", u.Username)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking (for scripts)")
	return cmd
}

func newUserSetPasswordCmd(c *common, e env) *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "set-password USERNAME [--password-stdin]",
		Short: "Set a user's password; every login session of the user ends",
		Long: "Set a user's password. On a terminal it asks twice, without echo; elsewhere it reads one line\n" +
			"from standard input with --password-stdin (never from the command line). Every login session\n" +
			"of the user ends and their remembered devices are forgotten; their grants live on\n" +
			"('gatehouse grant revoke' ends those).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tty, onTerminal := e.stdin.(*os.File)
			onTerminal = onTerminal && isTerminal(e.stdin)
			if !onTerminal && !fromStdin {
				return errors.New("the new password is read from standard input: pipe it in with --password-stdin, or run on a terminal to be asked (never on the command line)")
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				u, err := srv.UserNamed(cmd.Context(), args[0])
				if errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no user is named %q", args[0])
				} else if err != nil {
					return fmt.Errorf("set password: %w", err)
				}
				var password string
				if onTerminal {
					password, err = askPassword(e, tty, u.Username)
				} else {
					password, err = readSecretLine(e.stdin)
				}
				if err != nil {
					return err
				}
				if _, err := srv.SetPassword(cmd.Context(), u.Username, password); errors.Is(err, gatehouse.ErrNotFound) {
					return fmt.Errorf("no user is named %q", args[0])
				} else if err != nil {
					return err
				}
				if c.json() {
					return printJSON(e, map[string]string{"username": u.Username, "status": "password set", "sessions": "ended"})
				}
				fmt.Fprintf(e.stdout, "set the password of %s; every login session of the user ended\n", u.Username)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the new password from standard input")
	return cmd
}

// askPassword asks on the terminal tty for a new password twice, without
// echo, and refuses two answers that differ.
func askPassword(e env, tty *os.File, username string) (string, error) {
	read := func(prompt string) (string, error) {
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read the password from the terminal: %w", err)
		}
		return string(b), nil
	}
	first, err := read("New password for " + username + ": ")
	if err != nil {
		return "", err
	}
	if first == "" {
		return "", errors.New("no password given: nothing was changed")
	}
	second, err := read("Again: ")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("the two passwords differ: nothing was changed")
	}
	return first, nil
}
