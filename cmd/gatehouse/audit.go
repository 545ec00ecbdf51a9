package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/oauth"
)

type eventOutput struct {
	ID      int64     `json:"id"`
	Kind    string    `json:"kind"`
	At      time.Time `json:"at"`
	AppID   int64     `json:"app_id,omitempty"`
	UserID  int64     `json:"user_id,omitempty"`
	GrantID int64     `json:"grant_id,omitempty"`
	Detail  string    `json:"detail"`
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
	cmd := &cobra.Command{
		Use:   "log [--limit N]",
		Short: "Show the security audit log, newest first (code replays, refresh token reuse, …)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 10000 {
				return fmt.Errorf("--limit must be between 1 and 10000")
			}
			return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
				events, err := srv.Store().ListEvents(cmd.Context(), limit)
				if err != nil {
					return fmt.Errorf("audit: %w", err)
				}
				out := make([]eventOutput, len(events))
				for i, ev := range events {
					out[i] = eventOutput{ID: ev.ID, Kind: ev.Kind, At: ev.At, AppID: ev.AppID, UserID: ev.UserID, GrantID: ev.GrantID, Detail: ev.Detail}
				}
				if c.json() {
					return printJSON(e, out)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "AT\tKIND\tAPP\tUSER\tGRANT\tDETAIL")
				for _, ev := range out {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", ev.At.Format(time.RFC3339), ev.Kind, ev.AppID, ev.UserID, ev.GrantID, ev.Detail)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 100, "how many events to show")
	return cmd
}
