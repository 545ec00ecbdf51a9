package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/oauth"
)

// exitHighFindings is the exit status of 'gatehouse audit' when it found
// something of high severity, so that cron and CI can tell it from a
// failure to run (1, as for every other error).
const exitHighFindings = 2

// exitStatus is an error that sets the process's exit status; run prints
// it as any error.
type exitStatus struct {
	code int
	msg  string
}

func (e *exitStatus) Error() string { return e.msg }

// findingOutput is a finding as 'gatehouse audit -o json' prints it; the
// field names are stable.
type findingOutput struct {
	Severity string `json:"severity"`
	Check    string `json:"check"`
	ClientID string `json:"client_id"`
	App      string `json:"app"`
	Message  string `json:"message"`
	Fix      string `json:"fix"`
}

// addAuditReview makes cmd ('gatehouse audit') review every app against
// the checklist, with the policies as flags. It exits 0 when nothing or
// only medium and low findings turned up, exitHighFindings on a high one,
// and 1 when the review could not run.
func addAuditReview(cmd *cobra.Command, c *common, e env) {
	p := oauth.ReviewPolicy{
		CredentialMaxAge: oauth.DefaultCredentialMaxAge,
		CredentialUnused: oauth.DefaultCredentialUnused,
		OverlapMax:       oauth.DefaultOverlapMax,
		RefreshIdle:      oauth.DefaultRefreshIdle,
	}
	unusedScopeDays := int(oauth.DefaultUnusedScopeAge / oauth.Day)
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if unusedScopeDays < 1 {
			return errors.New("--unused-scope-days must be at least 1")
		}
		p.UnusedScopeAge = time.Duration(unusedScopeDays) * oauth.Day
		return withServer(cmd.Context(), c, e, func(srv *oauth.Server) error {
			fs, err := srv.Review(cmd.Context(), p)
			if err != nil {
				return fmt.Errorf("audit: %w", err)
			}
			if err := printFindings(c, e, fs); err != nil {
				return err
			}
			high := 0
			for _, f := range fs {
				if f.Severity == oauth.SeverityHigh {
					high++
				}
			}
			if high > 0 {
				return &exitStatus{code: exitHighFindings, msg: fmt.Sprintf("%d high-severity finding(s)", high)}
			}
			return nil
		})
	}
	f := cmd.Flags()
	f.Var(daysFlag{&p.CredentialMaxAge}, "credential-max-age", "a credential older than this is due for rotation (medium)")
	f.Var(daysFlag{&p.CredentialUnused}, "credential-unused", "a credential never used this long after its creation is reported (low)")
	f.Var(daysFlag{&p.OverlapMax}, "overlap-max", "several live credentials whose newest is older than this: a rotation left unfinished (medium)")
	f.IntVar(&unusedScopeDays, "unused-scope-days", unusedScopeDays, "a scope an app may request but has not used for this many days is reported (low)")
	f.Var(daysFlag{&p.RefreshIdle}, "refresh-idle", "live refresh tokens issued longer ago than this and never exchanged are reported (low)")
}

func printFindings(c *common, e env, fs []oauth.Finding) error {
	out := make([]findingOutput, len(fs))
	count := map[oauth.Severity]int{}
	for i, f := range fs {
		out[i] = findingOutput{Severity: string(f.Severity), Check: f.Check, ClientID: f.ClientID, App: f.App, Message: f.Message, Fix: f.Fix}
		count[f.Severity]++
	}
	if c.json() {
		return printJSON(e, out)
	}
	if len(fs) == 0 {
		fmt.Fprintln(e.stdout, "no findings: every app passes the review")
		return nil
	}
	for _, f := range out {
		fmt.Fprintf(e.stdout, "%-6s  %s (%s)  %s: %s\n        fix: %s\n", strings.ToUpper(f.Severity), f.ClientID, strconv.Quote(f.App), f.Check, f.Message, f.Fix)
	}
	fmt.Fprintf(e.stdout, "%d finding(s): %d high, %d medium, %d low\n", len(fs), count[oauth.SeverityHigh], count[oauth.SeverityMedium], count[oauth.SeverityLow])
	return nil
}

// daysFlag is a duration flag that also takes whole days ("90d").
type daysFlag struct{ d *time.Duration }

func (v daysFlag) String() string {
	if v.d == nil {
		return ""
	}
	if *v.d%oauth.Day == 0 && *v.d != 0 {
		return strconv.FormatInt(int64(*v.d/oauth.Day), 10) + "d"
	}
	return v.d.String()
}

func (v daysFlag) Set(s string) error {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days > 100*365 {
			return errors.New("a number of days such as 90d, or a duration such as 36h")
		}
		d = time.Duration(days) * oauth.Day
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return errors.New("a number of days such as 90d, or a duration such as 36h")
		}
	}
	if d <= 0 {
		return errors.New("must be positive")
	}
	*v.d = d
	return nil
}

func (daysFlag) Type() string { return "days" }
