package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/bench"
	"github.com/gatehouse/gatehouse/oauth"
)

// benchConfig are the flags of 'gatehouse bench'.
type benchConfig struct {
	duration    time.Duration
	connections int
	scenarios   []string
	serverCPU   int
	clientCPU   int
	// grow, when positive, runs the growth measurement with that many
	// tokens (see grow).
	grow int
	// ceilingServer and addr run the ceiling child (hidden flags).
	ceilingServer bool
	addr          string
}

// benchChild returns the program, and the arguments that come before a
// gatehouse command line, that run gatehouse as a child process. Tests point
// it at the test binary.
var benchChild = func() (string, []string, error) {
	exe, err := os.Executable()
	return exe, nil, err
}

// ceilingClientsEnv carries the ceiling's client credentials to its child:
// secrets go through the environment, never argv.
const ceilingClientsEnv = "GATEHOUSE_BENCH_CEILING_CLIENTS"

func newBenchCmd(c *common, e env) *cobra.Command {
	var bc benchConfig
	cmd := &cobra.Command{
		Use:   "bench [--duration 10s] [--connections 32] [--scenarios a,b]",
		Short: "Measure the server under load, as a fraction of this machine's ceiling",
		Long: `Seed a fresh SQLite database, start the server and a ceiling (net/http with no
storage and no token crypto) as child processes pinned to --server-cpu, and
drive both over loopback from --client-cpu with --connections keep-alive
connections for --duration per scenario. Every response is checked; any
failed check makes the command fail. Only an explicit --db is used
(GATEHOUSE_DB is not), and it must name a file that does not exist yet.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if bc.ceilingServer {
				return serveCeiling(cmd.Context(), bc.addr, e)
			}
			return runBench(cmd.Context(), c, bc, cmd.Flags().Changed("db"), e)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&bc.duration, "duration", 10*time.Second, "how long each scenario runs, on the server and on the ceiling")
	f.IntVar(&bc.connections, "connections", 32, "concurrent keep-alive connections")
	f.StringSliceVar(&bc.scenarios, "scenarios", nil, "comma-separated scenarios (default all: "+strings.Join(bench.Names(), ",")+")")
	f.IntVar(&bc.serverCPU, "server-cpu", 0, "CPU the server and the ceiling are pinned to with taskset (0 by default); -1 does not pin")
	f.IntVar(&bc.clientCPU, "client-cpu", 1, "CPU the load generator is pinned to; -1 does not pin")
	f.IntVar(&bc.grow, "grow", 0, "measure again after inserting this many (expired) tokens, and after the janitor deleted them (scenarios default to "+strings.Join(growthScenarios, ",")+")")
	f.BoolVar(&bc.ceilingServer, "ceiling-server", false, "serve the ceiling (used by bench itself)")
	f.StringVar(&bc.addr, "addr", "", "address of --ceiling-server")
	_ = f.MarkHidden("ceiling-server")
	_ = f.MarkHidden("addr")
	return cmd
}

// validate checks every flag at once and returns the scenarios to run.
func (bc *benchConfig) validate() ([]bench.Scenario, error) {
	var errs []error
	if bc.duration <= 0 {
		errs = append(errs, errors.New("--duration must be positive"))
	}
	if bc.connections < 1 || bc.connections > 10_000 {
		errs = append(errs, errors.New("--connections must be between 1 and 10000"))
	}
	if bc.serverCPU < -1 || bc.clientCPU < -1 {
		errs = append(errs, errors.New("--server-cpu and --client-cpu are CPU numbers, or -1 for no pinning"))
	}
	if bc.grow < 0 || bc.grow > 100_000_000 {
		errs = append(errs, errors.New("--grow must be between 0 and 100000000"))
	}
	names := bc.scenarios
	if bc.grow > 0 && len(names) == 0 {
		names = growthScenarios
	}
	scenarios, err := bench.Select(names)
	if err != nil {
		errs = append(errs, fmt.Errorf("--scenarios: %w", err))
	}
	if bc.grow > 0 && slices.ContainsFunc(scenarios, func(s bench.Scenario) bool { return s.Name == "revoke" }) {
		errs = append(errs, errors.New("--grow measures each scenario three times: revoke consumes its tokens, leave it out"))
	}
	return scenarios, errors.Join(errs...)
}

// benchDBPath returns the SQLite file --db names, "" for a fresh file in
// the bench's own data directory, or a PostgreSQL DSN, in whose database
// bench makes a schema of its own. bench seeds its own data, so it never
// works on an existing database (GATEHOUSE_DB is ignored for that reason).
func benchDBPath(dsn string, explicit bool) (string, error) {
	if !explicit {
		return "", nil
	}
	switch {
	case isPostgres(dsn):
		return dsn, nil
	case !strings.HasPrefix(dsn, "sqlite:"):
		return "", errors.New("--db must be sqlite:PATH or postgres://…")
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	if path == "" || path == ":memory:" {
		return "", errors.New("--db sqlite: needs a file path: the server runs in another process")
	}
	if _, err := os.Stat(path); err == nil {
		return "", fmt.Errorf("--db %s exists: bench seeds a database of its own, so name a file that does not exist yet", path)
	}
	return path, nil
}

func runBench(ctx context.Context, c *common, bc benchConfig, explicitDB bool, e env) error {
	scenarios, err1 := bc.validate()
	dbPath, err2 := benchDBPath(c.db, explicitDB)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "gatehouse-bench-")
	if err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	defer os.RemoveAll(dir)
	var db benchDB
	switch {
	case isPostgres(dbPath):
		pg, drop, err := newBenchSchema(ctx, dbPath)
		if err != nil {
			return err
		}
		defer drop()
		db = pg
	case dbPath == "":
		db = sqliteBenchDB(filepath.Join(dir, dbFileName))
	default:
		db = sqliteBenchDB(dbPath)
	}
	r := &benchRun{cfg: bc, e: e, dir: dir, db: db, scenarios: scenarios}
	if bc.grow > 0 {
		g, err := runBenchWith(ctx, r, r.grow)
		if err != nil {
			return err
		}
		if c.json() {
			err = printJSON(e, g)
		} else {
			err = g.writeText(e.stdout)
		}
		if err != nil {
			return err
		}
		if n := g.errors(); n > 0 {
			return fmt.Errorf("%d responses failed their checks (see the notes above)", n)
		}
		return nil
	}
	report, err := runBenchWith(ctx, r, r.once)
	if err != nil {
		return err
	}
	if err := r.write(c, report); err != nil {
		return err
	}
	if report.Errors > 0 {
		return fmt.Errorf("%d responses failed their checks (see the notes above)", report.Errors)
	}
	return nil
}

// benchRun is one 'gatehouse bench': its data directory, its children and
// what was seeded.
type benchRun struct {
	cfg       benchConfig
	e         env
	dir       string
	db        benchDB
	scenarios []bench.Scenario
	// key is the server key, hex; it reaches the server through its
	// environment only.
	key             string
	server, ceiling *bench.Child
	serverURL       string
	ceilingURL      string
	fixture         *bench.Fixture
	notes           []string
	// unpinned: --server-cpu is not available (warned once).
	unpinned bool
}

// runBenchWith seeds the database, starts the server and the ceiling, calls measure
// and stops them.
func runBenchWith[T any](ctx context.Context, r *benchRun, measure func(ctx context.Context, serverAddr string) (T, error)) (T, error) {
	var zero T
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	r.key = hex.EncodeToString(k)
	serverAddr, err1 := bench.FreeAddr()
	ceilingAddr, err2 := bench.FreeAddr()
	if err := errors.Join(err1, err2); err != nil {
		return zero, err
	}
	r.serverURL, r.ceilingURL = "http://"+serverAddr, "http://"+ceilingAddr
	r.progress("seeding %s", r.db.describe())
	fx, err := seedBench(ctx, r.db.dsn(), k, r.serverURL, r.cfg)
	if err != nil {
		return zero, err
	}
	r.fixture = fx
	if err := r.startChildren(ctx, serverAddr, ceilingAddr); err != nil {
		return zero, errors.Join(err, r.stopChildren())
	}
	out, err := measure(ctx, serverAddr)
	if err := errors.Join(err, r.stopChildren()); err != nil {
		return zero, err
	}
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("bench interrupted: %w", err)
	}
	return out, nil
}

// once measures every scenario once.
func (r *benchRun) once(ctx context.Context, _ string) (bench.Report, error) {
	report := r.measure(ctx)
	report.ServerPeakRSS, report.CeilingPeakRSS = r.server.PeakRSS(), r.ceiling.PeakRSS()
	report.Notes = append(r.notes, report.Notes...)
	return report, nil
}

func (r *benchRun) progress(format string, args ...any) {
	fmt.Fprintf(r.e.stderr, "bench: "+format+"\n", args...)
}

func (r *benchRun) warn(msg string) {
	r.progress("warning: %s", msg)
	r.notes = append(r.notes, msg)
}

// startChildren starts the server and the ceiling, both pinned to
// --server-cpu, and waits until both answer.
func (r *benchRun) startChildren(ctx context.Context, serverAddr, ceilingAddr string) error {
	clients, err := json.Marshal(r.fixture.Clients())
	if err != nil {
		return fmt.Errorf("ceiling clients: %w", err)
	}
	if err := r.startServer(ctx, serverAddr); err != nil {
		return err
	}
	exe, lead, cpu, err := r.child()
	if err != nil {
		return err
	}
	r.ceiling, err = bench.StartChild(bench.ChildSpec{
		Path: exe, CPU: cpu, Env: slices.Concat(bench.Environ("GATEHOUSE_"), []string{ceilingClientsEnv + "=" + string(clients)}),
		Args: slices.Concat(lead, []string{"bench", "--ceiling-server", "--addr", ceilingAddr}),
	})
	if err != nil {
		return err
	}
	return r.ceiling.WaitHealthy(ctx, r.ceilingURL+"/healthz", 30*time.Second)
}

// startServer starts the server on the bench database, pinned to
// --server-cpu, and waits until it answers. Its janitor waits a day: the
// growth run sweeps at a moment of its choosing, not during a measurement.
func (r *benchRun) startServer(ctx context.Context, serverAddr string) error {
	exe, lead, cpu, err := r.child()
	if err != nil {
		return err
	}
	r.server, err = bench.StartChild(bench.ChildSpec{
		Path: exe, CPU: cpu, Env: slices.Concat(bench.Environ("GATEHOUSE_"), []string{"GATEHOUSE_SECRET_KEY=" + r.key, "GATEHOUSE_DB=" + r.db.dsn()}),
		Args: slices.Concat(lead, []string{"serve", "--dev", "--addr", serverAddr, "--issuer", r.serverURL,
			"--data-dir", r.dir, "--log-level", "warn", "--janitor-interval", "24h"}),
	})
	if err != nil {
		return err
	}
	return r.server.WaitHealthy(ctx, r.serverURL+"/healthz", 30*time.Second)
}

// child returns how to run a gatehouse child and the CPU to pin it to (-1:
// none).
func (r *benchRun) child() (exe string, lead []string, cpu int, err error) {
	exe, lead, err = benchChild()
	if err != nil {
		return "", nil, 0, fmt.Errorf("find the gatehouse binary: %w", err)
	}
	cpu = r.cfg.serverCPU
	if cpu >= 0 && !bench.CPUAvailable(cpu) {
		if !r.unpinned {
			r.warn(fmt.Sprintf("the server is not pinned: CPU %d is not available", cpu))
			r.unpinned = true
		}
		cpu = -1
	}
	return exe, lead, cpu, nil
}

// stopChildren stops whichever children were started.
func (r *benchRun) stopChildren() error {
	var errs []error
	for _, c := range []*bench.Child{r.server, r.ceiling} {
		if c != nil {
			errs = append(errs, c.Stop(15*time.Second))
		}
	}
	return errors.Join(errs...)
}

// measure pins the load generator and runs the suite.
func (r *benchRun) measure(ctx context.Context) bench.Report {
	pinned, unpin := r.pinClient()
	defer unpin()
	report := bench.Report{
		Machine:  bench.ThisMachine(),
		Database: r.db.kind() + ", fresh database", Connections: r.cfg.connections, Duration: r.cfg.duration.Seconds(),
	}
	m := &report.Machine
	m.ClientPinning, m.ServerPinning, m.CeilingPinning = pinned, r.server.Describe(), r.ceiling.Describe()
	suite := bench.Suite{
		Load:      bench.Load{Connections: r.cfg.connections, Duration: r.cfg.duration},
		Scenarios: r.scenarios, Fixture: r.fixture,
		Server:   bench.Target{Name: "gatehouse", URL: r.serverURL, PID: r.server.PID()},
		Ceiling:  bench.Target{Name: "ceiling", URL: r.ceilingURL, Ceiling: true, PID: r.ceiling.PID()},
		Progress: func(sc, target string) { r.progress("%s on %s", sc, target) },
	}
	report.Scenarios = suite.Run(ctx)
	report.Finish()
	return report
}

// pinClient pins the load generator to --client-cpu; it returns how, and
// what undoes it.
func (r *benchRun) pinClient() (string, func()) {
	if r.cfg.clientCPU < 0 {
		return "not pinned", func() {}
	}
	desc, undo, err := bench.PinLoadGenerator(r.cfg.clientCPU)
	if err != nil {
		r.warn("the load generator is not pinned: " + err.Error())
		return "not pinned", func() {}
	}
	return desc, func() {
		if err := undo(); err != nil {
			r.progress("warning: restore CPU affinity: %v", err)
		}
	}
}

func (r *benchRun) write(c *common, report bench.Report) error {
	if c.json() {
		return printJSON(r.e, report)
	}
	return report.WriteText(r.e.stdout)
}

// serveCeiling is the ceiling child: the clients it accepts come from its
// environment.
func serveCeiling(ctx context.Context, addr string, e env) error {
	if addr == "" {
		return errors.New("--ceiling-server needs --addr")
	}
	var clients bench.Clients
	if err := json.Unmarshal([]byte(e.getenv(ceilingClientsEnv)), &clients); err != nil {
		return fmt.Errorf("%s: %w", ceilingClientsEnv, err)
	}
	return bench.ServeCeiling(ctx, addr, clients)
}

// benchRedirectURI is the https redirect URI of the bench's apps: https, so
// that a remembered consent skips the consent page (oauth.NeedsConsent).
const benchRedirectURI = "https://bench.example/cb"

// Pool sizes. The introspection pools are read, not consumed. The
// revocation pool is consumed one token a request, and issuing a token here
// costs about as much as revoking one on the server: it is sized for
// revokeRatePerCore tokens a second for each core the server has, about
// twice what one core does today. If it still runs out, the run ends early
// and the report says so; raise the bound when the server gets faster.
const (
	introspectPool    = 1000
	revokeRatePerCore = 4000
)

// benchSeed seeds the bench database through oauth.Server, the way the
// admin commands do, and collects the fixture.
type benchSeed struct {
	srv     *oauth.Server
	f       *bench.Fixture
	web     gatehouse.App
	spa     gatehouse.App
	service oauth.ClientAuth
	userID  int64
}

// seedBench creates the database at path and seeds it for bc. Tokens get a
// day to live, so that none expires during a long run.
func seedBench(ctx context.Context, dsn string, key []byte, issuer string, bc benchConfig) (*bench.Fixture, error) {
	store, err := openStore(ctx, dsn, true)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	srv, err := oauth.NewServer(store, key, oauth.Config{Issuer: issuer, AccessTokenTTL: 24 * time.Hour, SessionTTL: 24 * time.Hour}, oauth.Options{})
	if err != nil {
		return nil, err
	}
	s := &benchSeed{srv: srv, f: &bench.Fixture{RedirectURI: benchRedirectURI, Scope: "read"}}
	cores := 1
	if bc.serverCPU < 0 {
		cores = runtime.NumCPU()
	}
	revocable := max(1000, int(bc.duration.Seconds()*revokeRatePerCore)*cores)
	for _, step := range []func(context.Context) error{
		s.apps, s.user, s.refreshChains(bc.connections), s.pools(revocable),
	} {
		if err := step(ctx); err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
	}
	return s.f, nil
}

func (s *benchSeed) apps(ctx context.Context) error {
	if _, err := s.srv.CreateScope(ctx, "read", "Read your data"); err != nil {
		return err
	}
	read, cc := []string{"read"}, []string{gatehouse.GrantClientCredentials}
	specs := []struct {
		spec  oauth.AppSpec
		creds *bench.Credentials
		app   *gatehouse.App
	}{
		{oauth.AppSpec{Name: "Bench Service", Type: gatehouse.Confidential, Scopes: read, Grants: cc}, &s.f.Service, nil},
		{oauth.AppSpec{Name: "Bench Resource Server", Type: gatehouse.Confidential, Grants: cc, ResourceServer: true}, &s.f.Resource, nil},
		{oauth.AppSpec{Name: "Bench Web", Type: gatehouse.Confidential, Scopes: read, RedirectURIs: []string{benchRedirectURI}}, &s.f.Web, &s.web},
		{oauth.AppSpec{Name: "Bench SPA", Type: gatehouse.Public, Scopes: read, RedirectURIs: []string{benchRedirectURI}}, nil, &s.spa},
	}
	for _, a := range specs {
		app, sec, err := s.srv.RegisterApp(ctx, a.spec)
		if err != nil {
			return err
		}
		if a.creds != nil {
			*a.creds = bench.Credentials{ID: app.ClientID, Secret: sec}
		}
		if a.app != nil {
			*a.app = app
		}
	}
	s.f.PublicID = s.spa.ClientID
	s.service = oauth.ClientAuth{Method: oauth.AuthBasic, ClientID: s.f.Service.ID, Secret: s.f.Service.Secret}
	return nil
}

// user creates the user with a live session and remembered consent to the
// public app, so that its authorization requests go straight to a code.
func (s *benchSeed) user(ctx context.Context) error {
	u, err := s.srv.CreateUser(ctx, "bench", rand.Text())
	if err != nil {
		return err
	}
	s.userID = u.ID
	session, _, err := s.srv.SignIn(ctx, u, false)
	if err != nil {
		return err
	}
	s.f.SessionCookie = "gatehouse_session=" + session
	_, _, err = s.approve(ctx, s.spa)
	return err
}

// approve runs an authorization request of app for the user to its code,
// and returns the code and its PKCE verifier.
func (s *benchSeed) approve(ctx context.Context, app gatehouse.App) (code, verifier string, err error) {
	verifier, challenge := bench.PKCEPair()
	p := map[string]string{"response_type": "code", "scope": "read", "code_challenge": challenge, "code_challenge_method": "S256"}
	req, err := s.srv.CheckAuthorize(app, benchRedirectURI, p, nil)
	if err != nil {
		return "", "", err
	}
	to, err := s.srv.Approve(ctx, s.userID, req)
	if err != nil {
		return "", "", err
	}
	u, err := url.Parse(to)
	if err != nil {
		return "", "", fmt.Errorf("approve: %w", err)
	}
	return u.Query().Get("code"), verifier, nil
}

// refreshChains gives each connection a refresh token of the web app, from
// a grant of its own.
func (s *benchSeed) refreshChains(n int) func(context.Context) error {
	return func(ctx context.Context) error {
		web := oauth.ClientAuth{Method: oauth.AuthBasic, ClientID: s.f.Web.ID, Secret: s.f.Web.Secret}
		for range n {
			code, verifier, err := s.approve(ctx, s.web)
			if err != nil {
				return err
			}
			resp, err := s.srv.Token(ctx, oauth.TokenRequest{Client: web, GrantType: gatehouse.GrantAuthorizationCode,
				Params: map[string]string{"code": code, "code_verifier": verifier, "redirect_uri": benchRedirectURI}})
			if err != nil {
				return err
			}
			s.f.Refresh = append(s.f.Refresh, resp.RefreshToken)
		}
		return nil
	}
}

// pools issues the service's access tokens to introspect and to revoke, and
// revokes the ones introspect_revoked asks about.
func (s *benchSeed) pools(revocable int) func(context.Context) error {
	return func(ctx context.Context) error {
		toks, err := s.issue(ctx, 2*introspectPool+revocable)
		if err != nil {
			return err
		}
		s.f.Valid, s.f.Revoked, s.f.Revocable = toks[:introspectPool], toks[introspectPool:2*introspectPool], toks[2*introspectPool:]
		for _, t := range s.f.Revoked {
			if err := s.srv.Revoke(ctx, s.service, t); err != nil {
				return err
			}
		}
		return nil
	}
}

// issue issues n client credentials tokens, a few at a time: reads run in
// parallel, and SQLite queues the writes.
func (s *benchSeed) issue(ctx context.Context, n int) ([]string, error) {
	out := make([]string, n)
	workers := min(n, 2*runtime.GOMAXPROCS(0))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += workers {
				resp, err := s.srv.Token(ctx, oauth.TokenRequest{Client: s.service, GrantType: gatehouse.GrantClientCredentials})
				out[i], errs[w] = resp.AccessToken, err
			}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}
