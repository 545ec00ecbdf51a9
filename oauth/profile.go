package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
)

// Limits of an app's profile, which users read on the consent page.
const (
	MaxDescriptionLen = 500  // characters
	MaxProfileURLLen  = 2000 // bytes
)

// ValidateProfileURL checks a URL of an app's profile (homepage, privacy
// policy, terms of service), which the consent page links to: empty (none)
// or an absolute https URL with a host, no user name or password and no
// fragment, at most MaxProfileURLLen bytes. what names the field in the
// error ("homepage"). An http:// or javascript: link on the consent page
// would send users off unprotected, or run script.
func ValidateProfileURL(what, raw string) error {
	if raw == "" {
		return nil
	}
	if len(raw) > MaxProfileURLLen {
		return fmt.Errorf("the %s URL is longer than %d characters", what, MaxProfileURLLen)
	}
	if !utf8.ValidString(raw) || strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return fmt.Errorf("the %s URL %s contains spaces or control characters", what, quote(raw))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Opaque != "" || u.Hostname() == "" {
		return fmt.Errorf("the %s must be an absolute https:// URL, not %s", what, quote(raw))
	}
	if u.User != nil {
		return fmt.Errorf("the %s URL %s must not carry a user name or password", what, quote(raw))
	}
	if strings.Contains(raw, "#") {
		return fmt.Errorf("the %s URL %s must not have a #fragment", what, quote(raw))
	}
	return nil
}

// validateDescription checks an app's description: empty (none) or one
// paragraph of at most MaxDescriptionLen characters.
func validateDescription(d string) error {
	if !utf8.ValidString(d) || utf8.RuneCountInString(d) > MaxDescriptionLen {
		return fmt.Errorf("the description must be at most %d characters", MaxDescriptionLen)
	}
	if strings.ContainsFunc(d, unicode.IsControl) {
		return errors.New("the description must be one paragraph: no line breaks or control characters")
	}
	if d != "" {
		if err := displayable(d); err != nil {
			return fmt.Errorf("the description %w", err)
		}
	}
	return nil
}

// displayable refuses text that users read on the consent and connected
// apps pages but that would not say what it seems to: only white space,
// white space around it, or invisible format characters (Unicode Cf: the
// bidirectional overrides that reorder what follows, zero-width spaces),
// tabs and other controls.
func displayable(text string) error {
	if strings.TrimSpace(text) == "" {
		return errors.New("must contain visible text")
	}
	if strings.TrimSpace(text) != text {
		return errors.New("must not begin or end with white space")
	}
	if strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(unicode.Cf, r) || unicode.IsControl(r) }) {
		return errors.New("must not contain invisible or direction-changing characters (such as U+202E) or tabs")
	}
	return nil
}

// validateProfile checks every field of an app's profile.
func validateProfile(spec AppSpec) []error {
	var errs []error
	if err := validateDescription(spec.Description); err != nil {
		errs = append(errs, err)
	}
	for _, f := range []struct{ what, url string }{
		{"homepage", spec.HomepageURL}, {"privacy policy", spec.PrivacyURL}, {"terms of service", spec.TermsURL},
	} {
		if err := ValidateProfileURL(f.what, f.url); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// validateOwner checks that an app's owner (zero: none) exists.
func (s *Server) validateOwner(ctx context.Context, ownerID int64) []error {
	if ownerID == 0 {
		return nil
	}
	_, err := s.store.GetUser(ctx, ownerID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return []error{fmt.Errorf("the owner (user %d) does not exist", ownerID)}
	}
	if err != nil {
		return []error{fmt.Errorf("look up the owner: %w", err)}
	}
	return nil
}
