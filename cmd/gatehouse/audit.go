package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

// eventOutput is an audit event as the command line shows it: client ids
// and usernames, not internal numbers.
type eventOutput struct {
	ID       int64           `json:"id"`
	Kind     string          `json:"kind"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	ClientID string          `json:"client_id,omitempty"`
	User     string          `json:"user,omitempty"`
	GrantID  int64           `json:"grant_id,omitempty"`
	Address  string          `json:"address,omitempty"`
	Detail   json.RawMessage `json:"detail"`
}

// newAuditCmd is 'gatehouse audit', the review of every app (review.go),
// and 'gatehouse audit log', the event log.
func newAuditCmd(c *common, e env) *cobra.Command {
	audit := &cobra.Command{
		Use:   "audit",
		Short: "Review every app against the security checklist (exit status 2 on a high finding); 'audit log' shows the event log",
	}
	addAuditReview(audit, c, e)
	audit.AddCommand(newAuditLogCmd(c, e))
	return audit
}

func newAuditLogCmd(c *common, e env) *cobra.Command {
	var limit int
	var clientID, since string
	cmd := &cobra.Command{
		Use:   "log [--app CLIENT_ID] [--since DURATION|TIME] [--limit N]",
		Short: "Show the security audit log, newest first: credentials, revocations, reuse, replays, lockouts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 10000 {
				return errors.New("--limit must be between 1 and 10000")
			}
			var from time.Time
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return err
				}
				from = t
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				ctx, st := cmd.Context(), srv.Store()
				f := gatehouse.EventFilter{Since: from, Limit: limit}
				if clientID != "" {
					a, err := st.GetApp(ctx, clientID)
					if errors.Is(err, gatehouse.ErrNotFound) {
						return fmt.Errorf("no app has client_id %q (the log of a deleted app is in 'audit log' without --app)", clientID)
					}
					if err != nil {
						return fmt.Errorf("look up app: %w", err)
					}
					f.AppID = a.ID
				}
				events, err := st.ListEvents(ctx, f)
				if err != nil {
					return fmt.Errorf("audit log: %w", err)
				}
				out, err := eventOutputs(ctx, st, events)
				if err != nil {
					return err
				}
				if c.json() {
					return printJSON(e, out)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "AT\tKIND\tACTOR\tAPP\tUSER\tADDRESS\tDETAIL")
				for _, ev := range out {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.At.Format(time.RFC3339), ev.Kind, ev.Actor,
						dash(ev.ClientID), dash(ev.User), dash(ev.Address), ev.Detail)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 100, "how many events to show")
	cmd.Flags().StringVar(&clientID, "app", "", "only the events of this app (client_id)")
	cmd.Flags().StringVar(&since, "since", "", "only events since then: a duration back (24h, 7d) or a time (2026-12-01, RFC 3339)")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// parseSince reads --since: a duration back from now (90m, 24h, 7d) or a
// time (2026-12-01, 2026-12-01T10:00:00Z).
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := parseDays(s); err == nil {
		if d < 0 {
			return time.Time{}, errors.New("--since must not be negative")
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly, "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q is neither a duration (24h, 7d) nor a time (2026-12-01, 2026-12-01T10:00:00Z)", s)
}

// eventOutputs names the apps and users of events; a deleted one shows as
// its former ID.
func eventOutputs(ctx context.Context, st gatehouse.Store, events []gatehouse.Event) ([]eventOutput, error) {
	apps, users := map[int64]string{}, map[int64]string{}
	name := func(id int64, cache map[int64]string, get func(int64) (string, error)) (string, error) {
		if id == 0 {
			return "", nil
		}
		if n, ok := cache[id]; ok {
			return n, nil
		}
		n, err := get(id)
		if errors.Is(err, gatehouse.ErrNotFound) {
			n, err = "(deleted #"+strconv.FormatInt(id, 10)+")", nil
		}
		if err != nil {
			return "", err
		}
		cache[id] = n
		return n, nil
	}
	appName := func(id int64) (string, error) {
		a, err := st.GetAppByID(ctx, id)
		return a.ClientID, err
	}
	userName := func(id int64) (string, error) {
		u, err := st.GetUser(ctx, id)
		return u.Username, err
	}
	out := make([]eventOutput, len(events))
	for i, ev := range events {
		clientID, err := name(ev.AppID, apps, appName)
		if err != nil {
			return nil, fmt.Errorf("audit log: look up app: %w", err)
		}
		user, err := name(ev.UserID, users, userName)
		if err != nil {
			return nil, fmt.Errorf("audit log: look up user: %w", err)
		}
		detail := json.RawMessage(ev.Detail)
		if !json.Valid(detail) {
			detail, _ = json.Marshal(map[string]string{"message": ev.Detail})
		}
		out[i] = eventOutput{ID: ev.ID, Kind: ev.Kind, At: ev.At, Actor: ev.Actor, ClientID: clientID, User: user,
			GrantID: ev.GrantID, Address: ev.Address, Detail: detail}
	}
	return out, nil
}
