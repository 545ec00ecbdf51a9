package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
)

// Errors of a device login.
var (
	// ErrNoDeviceEndpoint: the server's metadata names no
	// device_authorization_endpoint: it has no device flow (RFC 8628 §4).
	ErrNoDeviceEndpoint = errors.New("client: the authorization server has no device authorization endpoint (RFC 8628)")
	// ErrDeviceCodeExpired: the user did not approve the login before the
	// device code expired (expired_token, or its expires_in passed).
	ErrDeviceCodeExpired = errors.New("client: the device code expired before the login was approved")
)

// DeviceCode is what the user needs to approve a device login on another
// device (RFC 8628 §3.2). It does not hold the device code itself, which
// only this process knows.
type DeviceCode struct {
	// UserCode is the code the user enters at VerificationURI.
	UserCode string
	// VerificationURI is where the user goes.
	VerificationURI string
	// VerificationURIComplete, when the server sends one, is
	// VerificationURI with the user code in it (for a QR code or a link).
	VerificationURIComplete string
	// Expiry is when the codes expire.
	Expiry time.Time
}

// DevicePrompt shows dc to the user. An error ends the login.
type DevicePrompt func(ctx context.Context, dc DeviceCode) error

// PrintDeviceCode returns the DevicePrompt that writes the user code and
// the verification URIs to w (a command line's standard error).
func PrintDeviceCode(w io.Writer) DevicePrompt {
	return func(_ context.Context, dc DeviceCode) error {
		var b strings.Builder
		fmt.Fprintf(&b, "To sign in, open %s on any device and enter the code %s\n", dc.VerificationURI, dc.UserCode)
		if dc.VerificationURIComplete != "" {
			fmt.Fprintf(&b, "or open %s\n", dc.VerificationURIComplete)
		}
		fmt.Fprintf(&b, "The code expires at %s.\n", dc.Expiry.Local().Format(time.Kitchen))
		_, err := io.WriteString(w, b.String())
		return err
	}
}

// LoginDevice signs the user in with the device authorization grant
// (RFC 8628), for where no browser can be opened (a server, an SSH
// session): it asks the server's device_authorization_endpoint for a user
// code, passes it to prompt, and polls the token endpoint no faster than
// the server's interval, 5 s more after each slow_down (§3.5; x/oauth2's
// DeviceAccessToken). The granted scopes are compared with those asked
// for, as in Exchange.
//
// A user who says no gives an *AuthError that is ErrAccessDenied; a code
// that expires gives ErrDeviceCodeExpired; ctx bounds the whole login.
func (a *PublicApp) LoginDevice(ctx context.Context, prompt DevicePrompt) (*Session, error) {
	c, err := a.core()
	if err != nil {
		return nil, err
	}
	if prompt == nil {
		return nil, fmt.Errorf("%w: LoginDevice needs a prompt (PrintDeviceCode)", ErrConfig)
	}
	if c.p.DeviceAuthorizationEndpoint == "" {
		return nil, fmt.Errorf("%w: %s", ErrNoDeviceEndpoint, c.p.Issuer)
	}
	cfg := c.config("")
	cfg.Endpoint.DeviceAuthURL = c.p.DeviceAuthorizationEndpoint
	octx := c.oauth2Context(ctx)
	da, err := cfg.DeviceAuth(octx)
	if err != nil {
		return nil, deviceError("start the device login", err)
	}
	dc, err := checkDeviceAuth(da)
	if err != nil {
		return nil, err
	}
	if err := prompt(ctx, dc); err != nil {
		return nil, fmt.Errorf("client: device login prompt: %w", err)
	}
	tok, err := cfg.DeviceAccessToken(octx, da)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) && !time.Now().Before(da.Expiry) {
			// DeviceAccessToken stops at the code's expiry.
			return nil, fmt.Errorf("%w (at %s)", ErrDeviceCodeExpired, da.Expiry.Format(time.RFC3339))
		}
		return nil, deviceError("device login", err)
	}
	return compareScopes(c.scopes, tok)
}

// checkDeviceAuth checks the device authorization response (RFC 8628
// §3.2) and returns what the user is shown.
func checkDeviceAuth(da *oauth2.DeviceAuthResponse) (DeviceCode, error) {
	bad := func(why string) (DeviceCode, error) {
		return DeviceCode{}, fmt.Errorf("client: the device authorization response %s (RFC 8628 §3.2)", why)
	}
	switch {
	case da.DeviceCode == "":
		return bad("has no device_code")
	case da.UserCode == "" || strings.IndexFunc(da.UserCode, unicode.IsControl) >= 0:
		return bad("has no user_code, or one with control characters")
	case da.Expiry.IsZero():
		return bad("has no expires_in")
	}
	if da.VerificationURI == "" {
		return bad("has no verification_uri")
	}
	for _, u := range []string{da.VerificationURI, da.VerificationURIComplete} {
		if u == "" {
			continue // verification_uri_complete is optional
		}
		// The user is sent there: https (or loopback http), nothing else.
		if err := CheckEndpointURL(u); err != nil {
			return bad(fmt.Sprintf("has a verification URI that is not https: %v", err))
		}
	}
	return DeviceCode{
		UserCode:                da.UserCode,
		VerificationURI:         da.VerificationURI,
		VerificationURIComplete: da.VerificationURIComplete,
		Expiry:                  da.Expiry,
	}, nil
}

// deviceError turns x/oauth2's error into the toolkit's: the RFC 6749 /
// RFC 8628 error code as an *AuthError (without the response body), or
// ErrDeviceCodeExpired.
func deviceError(what string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("client: %s: %w", what, err)
	}
	switch re.ErrorCode {
	case "expired_token":
		return fmt.Errorf("%w (the server answered expired_token)", ErrDeviceCodeExpired)
	case "":
		status := "no response"
		if re.Response != nil {
			status = re.Response.Status
		}
		return fmt.Errorf("client: %s: the server answered %s without an OAuth error", what, status)
	}
	return fmt.Errorf("client: %s: %w", what, &AuthError{Code: re.ErrorCode, Description: re.ErrorDescription, URI: re.ErrorURI})
}

// Login signs the user in through the system browser (LoginNative) and,
// when no browser can be opened (ErrNoBrowser) or NoBrowser is given,
// with the device flow (LoginDevice, showing the code with prompt). It is
// what a command line's --no-browser flag needs.
func (a *PublicApp) Login(ctx context.Context, prompt DevicePrompt, opts ...NativeOption) (*Session, error) {
	s, err := a.LoginNative(ctx, opts...)
	if !errors.Is(err, ErrNoBrowser) {
		return s, err
	}
	s, derr := a.LoginDevice(ctx, prompt)
	var ae *AuthError
	unregistered := errors.As(derr, &ae) && ae.Code == "unauthorized_client" // the app is not registered for the device grant
	if derr != nil && (errors.Is(derr, ErrNoDeviceEndpoint) || errors.Is(derr, ErrConfig) || unregistered) {
		return nil, errors.Join(err, derr)
	}
	return s, derr
}
