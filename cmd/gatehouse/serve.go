package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/oauth"
	"github.com/gatehouse/gatehouse/ratelimit"
	"github.com/gatehouse/gatehouse/web"
)

type serveConfig struct {
	addr            string
	issuer          string
	dev             bool
	accessTTL       time.Duration
	refreshIdleTTL  time.Duration
	refreshMaxTTL   time.Duration
	retryWindow     time.Duration
	sessionTTL      time.Duration
	janitorInterval time.Duration
	auditRetention  time.Duration
	deviceCodeTTL   time.Duration
	deviceInterval  time.Duration
	logFormat       string
	logLevel        string
	trustedProxies  []string
	metricsAddr     string
	brandName       string
	brandLogo       string
	brandColor      string
	brand           web.Brand // read and checked by validate
}

func newServeCmd(c *common, e env) *cobra.Command {
	var sc serveConfig
	cmd := &cobra.Command{
		Use:   "serve --addr HOST:PORT --issuer URL --db DSN [--dev]",
		Short: "Run the authorization server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), c, sc, e)
		},
	}
	f := cmd.Flags()
	f.StringVar(&sc.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&sc.issuer, "issuer", "", "issuer URL, https (default with --dev: http://<addr>)")
	f.BoolVar(&sc.dev, "dev", false, "development mode: http issuer on loopback, key file and demo data created when missing")
	f.DurationVar(&sc.accessTTL, "access-token-ttl", oauth.DefaultAccessTokenTTL, "access token lifetime")
	f.DurationVar(&sc.refreshIdleTTL, "refresh-token-idle-ttl", oauth.DefaultRefreshIdleTTL, "a refresh token unused this long expires")
	f.DurationVar(&sc.refreshMaxTTL, "refresh-token-max-ttl", oauth.DefaultRefreshMaxTTL, "no refresh token outlives its grant's start plus this")
	f.DurationVar(&sc.retryWindow, "refresh-retry-window", oauth.DefaultRetryWindow, "how long a superseded refresh token may be retried after a lost response")
	f.DurationVar(&sc.sessionTTL, "session-ttl", oauth.DefaultSessionTTL, "login session lifetime")
	f.DurationVar(&sc.janitorInterval, "janitor-interval", time.Minute, "how often expired tokens are deleted")
	f.DurationVar(&sc.auditRetention, "audit-retention", oauth.DefaultEventRetention, "how long audit events are kept")
	f.DurationVar(&sc.deviceCodeTTL, "device-code-ttl", oauth.DefaultDeviceCodeTTL, "how long a device sign-in (RFC 8628) waits for its user")
	f.DurationVar(&sc.deviceInterval, "device-poll-interval", oauth.DefaultDeviceInterval, "how often a device may poll for its sign-in, whole seconds")
	f.StringSliceVar(&sc.trustedProxies, "trusted-proxy", nil, "a reverse proxy (IP or CIDR) whose X-Forwarded-For is trusted for rate limits and logs")
	f.StringVar(&sc.metricsAddr, "metrics-addr", "", "serve /metrics on this separate address (with --dev and no address: on the main listener; otherwise metrics are off)")
	f.StringVar(&sc.brandName, "brand-name", "Gatehouse", "the platform's name on every page (one line, at most 60 characters)")
	f.StringVar(&sc.brandLogo, "brand-logo", "", "a PNG, JPEG or SVG file (at most 256 KiB) shown on every page, read at start")
	f.StringVar(&sc.brandColor, "brand-color", "", "the pages' accent colour, #RRGGBB")
	f.StringVar(&sc.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&sc.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// validate checks the whole configuration at once and reports every
// problem, not only the first.
func (sc *serveConfig) validate(key []byte) error {
	var errs []error
	switch {
	case sc.issuer == "" && sc.dev:
		// derived from the listening address once it is known
	case sc.issuer == "":
		errs = append(errs, errors.New("--issuer is required: the https URL clients reach this server at"))
	default:
		if err := oauth.ValidateIssuer(sc.issuer, sc.dev); err != nil {
			errs = append(errs, fmt.Errorf("--issuer: %w", err))
		}
	}
	if sc.dev {
		if err := devAddr("--addr", sc.addr); err != nil {
			errs = append(errs, err)
		}
		if sc.metricsAddr != "" {
			if err := devAddr("--metrics-addr", sc.metricsAddr); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if key == nil && !sc.dev {
		errs = append(errs, errors.New("no server key: set GATEHOUSE_SECRET_KEY (random, at least 32 bytes, hex or base64: make one with openssl rand -hex 32) or GATEHOUSE_SECRET_KEY_FILE"))
	}
	if sc.accessTTL < time.Second || sc.accessTTL > 24*time.Hour {
		errs = append(errs, errors.New("--access-token-ttl must be between 1s and 24h"))
	}
	if sc.refreshIdleTTL < time.Minute || sc.refreshIdleTTL > sc.refreshMaxTTL {
		errs = append(errs, errors.New("--refresh-token-idle-ttl must be at least 1m and at most --refresh-token-max-ttl"))
	}
	if sc.retryWindow < 0 || sc.retryWindow > 5*time.Minute {
		errs = append(errs, errors.New("--refresh-retry-window must be between 0s and 5m"))
	}
	if sc.sessionTTL < time.Minute || sc.sessionTTL > 30*24*time.Hour {
		errs = append(errs, errors.New("--session-ttl must be between 1m and 720h"))
	}
	if sc.janitorInterval < time.Second {
		errs = append(errs, errors.New("--janitor-interval must be at least 1s"))
	}
	if sc.deviceCodeTTL < time.Second || sc.deviceCodeTTL > 30*time.Minute {
		errs = append(errs, errors.New("--device-code-ttl must be between 1s and 30m"))
	}
	if sc.deviceInterval < time.Second || sc.deviceInterval > time.Minute || sc.deviceInterval%time.Second != 0 {
		errs = append(errs, errors.New("--device-poll-interval must be whole seconds between 1s and 1m"))
	}
	if sc.auditRetention < time.Hour {
		errs = append(errs, errors.New("--audit-retention must be at least 1h"))
	}
	if sc.logFormat != "text" && sc.logFormat != "json" {
		errs = append(errs, errors.New("--log-format must be text or json"))
	}
	if _, err := ratelimit.ParseProxies(sc.trustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("--trusted-proxy: %w", err))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(sc.logLevel)); err != nil {
		errs = append(errs, errors.New("--log-level must be debug, info, warn or error"))
	}
	var err error
	if sc.brand, err = loadBrand(sc.brandName, sc.brandLogo, sc.brandColor); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// loadBrand reads the logo file, at most web.MaxBrandLogo bytes, and
// checks the brand.
func loadBrand(name, logoFile, color string) (web.Brand, error) {
	var logo []byte
	if logoFile != "" {
		f, err := os.Open(logoFile)
		if err != nil {
			return web.Brand{}, fmt.Errorf("--brand-logo %s: cannot read the file: %w", logoFile, errors.Unwrap(err))
		}
		defer f.Close()
		if logo, err = io.ReadAll(io.LimitReader(f, web.MaxBrandLogo+1)); err != nil {
			return web.Brand{}, fmt.Errorf("--brand-logo %s: cannot read the file: %w", logoFile, err)
		}
		if len(logo) > web.MaxBrandLogo {
			return web.Brand{}, fmt.Errorf("--brand-logo %s: the file is larger than %d KiB", logoFile, web.MaxBrandLogo>>10)
		}
	}
	return web.NewBrand(name, logo, color)
}

// devAddr refuses a --dev listening address other than loopback: the dev
// server speaks plain http, prints its demo account's password and serves
// /metrics on its listener, all meant for this machine only.
func devAddr(flag, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%s %q must be HOST:PORT with a numeric port, as in 127.0.0.1:8080", flag, addr)
	}
	if ip := net.ParseIP(host); strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("%s %s is not a loopback address: serve --dev listens only on 127.0.0.1, [::1] or localhost (plain http, a demo account); anywhere else, serve without --dev with an https issuer", flag, addr)
}

func (sc *serveConfig) logger(e env) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(sc.logLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewTextHandler(e.stderr, opts)
	if sc.logFormat == "json" {
		h = slog.NewJSONHandler(e.stderr, opts)
	}
	return slog.New(httpapi.LogHandler{Handler: h})
}

func serve(ctx context.Context, c *common, sc serveConfig, e env) error {
	// Only --dev falls back to the key file in the data directory: a
	// production server never runs on a dev key by accident.
	keyDir := ""
	if sc.dev {
		keyDir = c.dataDir
	}
	key, warning, err := loadKey(e.getenv, keyDir)
	if err != nil {
		return err
	}
	if err := sc.validate(key); err != nil {
		return fmt.Errorf("cannot start: %w", err)
	}
	if key == nil { // serve --dev in a new data directory: validate refuses it otherwise
		if err := ensureDevKey(c.dataDir); err != nil {
			return err
		}
		if key, warning, err = loadKey(e.getenv, c.dataDir); err != nil {
			return err
		}
	}
	log := sc.logger(e)
	if warning != "" {
		log.WarnContext(ctx, warning)
	}
	ln, err := net.Listen("tcp", sc.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	if sc.issuer == "" {
		sc.issuer = "http://" + ln.Addr().String()
	}
	store, err := openStore(ctx, c.db, true)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	srv, err := oauth.NewServer(store, key, oauth.Config{
		Issuer: sc.issuer, AccessTokenTTL: sc.accessTTL, RefreshIdleTTL: sc.refreshIdleTTL,
		RefreshMaxTTL: sc.refreshMaxTTL, RetryWindow: sc.retryWindow, SessionTTL: sc.sessionTTL,
		EventRetention: sc.auditRetention, DeviceCodeTTL: sc.deviceCodeTTL, DeviceInterval: sc.deviceInterval,
	}, oauth.Options{Logger: log})
	if err != nil {
		return err
	}
	if sc.dev {
		if err := seedDev(ctx, srv, e); err != nil {
			return err
		}
	}
	return serveHTTP(ctx, ln, srv, sc, log, e)
}

// newHandler builds the server's handler and the metrics handler. Metrics
// are mounted on the main handler only when onMain is set (dev without a
// metrics address): in production they are not public.
func newHandler(srv *oauth.Server, log *slog.Logger, dev, onMain bool, proxies ratelimit.Proxies, brand web.Brand) (http.Handler, http.Handler, *httpapi.Metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := httpapi.NewMetrics(reg)
	api := httpapi.NewAPI(srv, log, m, proxies)
	pages, err := web.New(srv, log, dev)
	if err != nil {
		return nil, nil, nil, err
	}
	pages.Proxies = proxies
	pages.Brand = brand
	mux := http.NewServeMux()
	api.Mount(mux)
	pages.Mount(mux)
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if onMain {
		mux.Handle("GET /metrics", metrics)
	}
	var h http.Handler = mux
	if strings.HasPrefix(srv.Issuer(), "https://") {
		h = httpapi.WarnIgnoredForward(mux, log, proxies)
	}
	return httpapi.Instrument(h, log, m, proxies), metrics, m, nil
}

func serveHTTP(ctx context.Context, ln net.Listener, srv *oauth.Server, sc serveConfig, log *slog.Logger, e env) error {
	proxies, _ := ratelimit.ParseProxies(sc.trustedProxies) // validated before
	handler, metrics, m, err := newHandler(srv, log, sc.dev, sc.dev && sc.metricsAddr == "", proxies, sc.brand)
	if err != nil {
		return err
	}
	stopMetrics, err := serveMetrics(ctx, sc, metrics, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	janitorCtx, stopJanitor := context.WithCancel(ctx)
	janitorDone := make(chan struct{})
	go func() {
		defer close(janitorDone)
		runJanitor(janitorCtx, srv, sc.janitorInterval, m, log)
	}()
	defer func() { stopJanitor(); <-janitorDone }()

	log.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "issuer", sc.issuer, "dev", sc.dev)
	if strings.HasPrefix(sc.issuer, "https://") && len(proxies) == 0 {
		// An https issuer means a TLS proxy in front: without
		// --trusted-proxy, every client is the proxy's address.
		log.WarnContext(ctx, "no --trusted-proxy is set: rate limits and logs see the TCP peer, which behind a TLS-terminating proxy is the proxy itself, shared by every user")
	}
	if e.onListen != nil {
		e.onListen(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// exclusive is a store that can run a function on one process at a time
// (the PostgreSQL backend, where several instances share the database).
type exclusive interface {
	Exclusive(ctx context.Context, name string, fn func(context.Context) error) (bool, error)
}

// sweepOnce runs the janitor's sweep, on one instance at a time where the
// store can tell; it reports whether this instance swept.
func sweepOnce(ctx context.Context, srv *oauth.Server) (int, bool, error) {
	var n int
	sweep := func(ctx context.Context) error {
		var err error
		n, err = srv.Sweep(ctx, janitorBatch)
		return err
	}
	ex, ok := srv.Store().(exclusive)
	if !ok {
		return n, true, sweep(ctx)
	}
	ran, err := ex.Exclusive(ctx, "janitor", sweep)
	return n, ran, err
}

// janitorBatch bounds each delete transaction.
const janitorBatch = 1000

func runJanitor(ctx context.Context, srv *oauth.Server, every time.Duration, m *httpapi.Metrics, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, ran, err := sweepOnce(ctx, srv)
		if !ran && err == nil {
			continue // another instance is sweeping
		}
		m.JanitorDeleted.Add(float64(n))
		if err != nil && ctx.Err() == nil {
			log.ErrorContext(ctx, "janitor", "err", err, "deleted", n)
			continue
		}
		m.JanitorLastSweep.SetToCurrentTime()
		if n > 0 {
			log.InfoContext(ctx, "janitor deleted expired records", "deleted", n)
		}
	}
}

// seedDev creates demo data on the first start of a dev server and prints
// how to try it. The demo secrets are printed to stdout once, never logged.
func seedDev(ctx context.Context, srv *oauth.Server, e env) error {
	apps, err := srv.Store().ListApps(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if len(apps) > 0 {
		for _, a := range apps {
			if a.Name == demoSPAName {
				printDevFlow(e, srv.Issuer(), a.ClientID)
			}
		}
		fmt.Fprintf(e.stdout, "(demo data was created on the first start; its password and secret were shown then)\n")
		return nil
	}
	for name, desc := range map[string]string{"read": "Read your data", "write": "Change your data"} {
		if _, err := srv.CreateScope(ctx, name, desc); err != nil && !errors.Is(err, gatehouse.ErrAlreadyExists) {
			return fmt.Errorf("seed: %w", err)
		}
	}
	password := strings.TrimPrefix(newDemoPassword(), "gth_se_")[:20]
	if _, err := srv.CreateUser(ctx, "demo", password); err != nil && !errors.Is(err, gatehouse.ErrAlreadyExists) {
		return fmt.Errorf("seed: %w", err)
	}
	backend, sec, err := srv.RegisterApp(ctx, oauth.AppSpec{
		Name: "Demo Backend", Type: gatehouse.Confidential, Scopes: []string{"read", "write"},
		DefaultScopes: []string{"read"}, Grants: []string{gatehouse.GrantClientCredentials},
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	spa, _, err := srv.RegisterApp(ctx, oauth.AppSpec{
		Name: demoSPAName, Type: gatehouse.Public, Scopes: []string{"read", "write"}, DefaultScopes: []string{"read"},
		RedirectURIs: []string{srv.Issuer() + "/dev/callback"},
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	printDevWelcome(e, srv.Issuer(), backend.ClientID, sec, password)
	printDevFlow(e, srv.Issuer(), spa.ClientID)
	return nil
}

// serveMetrics serves /metrics on its own listener when --metrics-addr is
// set, so that it can stay off the public edge.
func serveMetrics(ctx context.Context, sc serveConfig, metrics http.Handler, log *slog.Logger) (func(), error) {
	if sc.metricsAddr == "" {
		if !sc.dev {
			log.InfoContext(ctx, "metrics are off: set --metrics-addr to serve /metrics on a private address")
		}
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", sc.metricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	log.InfoContext(ctx, "metrics listening", "addr", ln.Addr().String())
	return func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdownCtx)
	}, nil
}
