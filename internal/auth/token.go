package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// JWTVerifier accepts JSON Web Tokens (RFC 7519) signed with HS256 (RFC
// 7518 3.2) under a shared key.
type JWTVerifier struct {
	Key []byte
	// UserClaim names the claim holding the user name; "" means "sub".
	UserClaim string
	// Audience, when set, must appear in the token's "aud" claim.
	Audience string
	// Leeway tolerates clock skew on exp and nbf.
	Leeway time.Duration
	Now    func() time.Time // nil: time.Now
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrTokenInvalid, fmt.Sprintf(format, args...))
}

// Verify checks signature, exp (required), nbf and aud, and returns the
// user claim.
func (v *JWTVerifier) Verify(_ context.Context, token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", invalid("not a JWS compact serialization")
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", invalid("malformed header")
	}
	var h struct {
		Alg  string          `json:"alg"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		return "", invalid("malformed header")
	}
	// Only HS256: never "none", never an algorithm the token picks
	// (RFC 8725 2.1, 3.1). Unknown critical headers must be refused
	// (RFC 7515 4.1.11).
	if h.Alg != "HS256" {
		return "", invalid("algorithm %q not accepted", h.Alg)
	}
	if h.Crit != nil {
		return "", invalid("critical header parameters not supported")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", invalid("malformed signature")
	}
	m := hmac.New(sha256.New, v.Key)
	m.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return "", invalid("bad signature")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", invalid("malformed payload")
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return "", err
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	exp, ok, err := numericDate(claims, "exp")
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "", invalid("no exp claim")
	case !now.Before(exp.Add(v.Leeway)):
		return "", invalid("expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if nbf, ok, err := numericDate(claims, "nbf"); err != nil {
		return "", err
	} else if ok && now.Add(v.Leeway).Before(nbf) {
		return "", invalid("not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	if v.Audience != "" && !hasAudience(claims["aud"], v.Audience) {
		return "", invalid("audience mismatch")
	}
	return userClaim(claims, v.UserClaim, "sub")
}

func decodeClaims(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var c map[string]any
	if err := d.Decode(&c); err != nil || c == nil {
		return nil, invalid("malformed claims")
	}
	return c, nil
}

// numericDate reads an RFC 7519 2 NumericDate (seconds, maybe fractional).
func numericDate(c map[string]any, name string) (time.Time, bool, error) {
	raw, ok := c[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return time.Time{}, false, invalid("%s is not a number", name)
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1e11 {
		return time.Time{}, false, invalid("%s out of range", name)
	}
	return time.Unix(0, 0).Add(time.Duration(f * float64(time.Second))), true, nil
}

// hasAudience: "aud" is a string or an array of strings (RFC 7519 4.1.3).
func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}

// userClaim returns the claim named name, or the first of defaults found.
func userClaim(c map[string]any, name string, defaults ...string) (string, error) {
	names := defaults
	if name != "" {
		names = []string{name}
	}
	for _, n := range names {
		if s, ok := c[n].(string); ok && s != "" {
			return s, nil
		}
	}
	return "", invalid("no user claim (%s)", strings.Join(names, ", "))
}

// IntrospectionVerifier asks an OAuth 2.0 token introspection endpoint
// (RFC 7662) about each token.
type IntrospectionVerifier struct {
	URL string
	// ClientID and ClientSecret, when set, authenticate this server to the
	// endpoint with HTTP Basic (RFC 7662 2.1 requires some protection).
	ClientID, ClientSecret string
	// UserClaim names the response member holding the user name; ""
	// means "username", then "sub".
	UserClaim string
	Client    *http.Client     // nil: a client with a 10 s timeout
	Now       func() time.Time // nil: time.Now
}

// maxIntrospectionResponse bounds what is read from the endpoint.
const maxIntrospectionResponse = 1 << 20

var defaultHTTPClient = &http.Client{Timeout: 10 * time.Second}

// Verify posts the token (RFC 7662 2.1) and accepts it when the response
// says active and any exp is in the future (RFC 7662 2.2).
func (v *IntrospectionVerifier) Verify(ctx context.Context, token string) (string, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrTokenUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if v.ClientID != "" {
		req.SetBasicAuth(url.QueryEscape(v.ClientID), url.QueryEscape(v.ClientSecret)) // RFC 6749 2.3.1
	}
	c := v.Client
	if c == nil {
		c = defaultHTTPClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrTokenUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIntrospectionResponse+1))
	if err != nil {
		return "", fmt.Errorf("%w: reading introspection response: %v", ErrTokenUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: introspection endpoint answered %s", ErrTokenUnavailable, resp.Status)
	}
	if len(body) > maxIntrospectionResponse {
		return "", fmt.Errorf("%w: introspection response too large", ErrTokenUnavailable)
	}
	claims, err := decodeClaims(body)
	if err != nil {
		return "", fmt.Errorf("%w: malformed introspection response", ErrTokenUnavailable)
	}
	if active, _ := claims["active"].(bool); !active {
		return "", invalid("token not active")
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if exp, ok, err := numericDate(claims, "exp"); err != nil {
		return "", err
	} else if ok && !now.Before(exp) {
		return "", invalid("expired at %s", exp.UTC().Format(time.RFC3339))
	}
	return userClaim(claims, v.UserClaim, "username", "sub")
}

// OAuthSettings are the token settings of the configuration file
// (oauth_* keys).
type OAuthSettings struct {
	IntrospectionURL string
	ClientID         string
	ClientSecretFile string
	JWTKeyFile       string
	UserClaim        string
	Audience         string
}

// minJWTKeyLen: RFC 7518 3.2 wants an HS256 key of at least 256 bits.
const minJWTKeyLen = 32

// NewTokenVerifier builds the verifier s describes, reading its secret
// files (a trailing newline is dropped); nil and no error when no token
// check is configured.
func NewTokenVerifier(s OAuthSettings) (TokenVerifier, error) {
	read := func(path string) ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		b = bytes.TrimSuffix(b, []byte("\n"))
		return bytes.TrimSuffix(b, []byte("\r")), nil
	}
	switch {
	case s.IntrospectionURL != "" && s.JWTKeyFile != "":
		return nil, errors.New("auth: set either an introspection URL or a JWT key, not both")
	case s.JWTKeyFile != "":
		key, err := read(s.JWTKeyFile)
		if err != nil {
			return nil, fmt.Errorf("auth: reading JWT key: %w", err)
		}
		if len(key) < minJWTKeyLen {
			return nil, fmt.Errorf("auth: JWT key in %s is %d bytes; HS256 needs at least %d", s.JWTKeyFile, len(key), minJWTKeyLen)
		}
		return &JWTVerifier{Key: key, UserClaim: s.UserClaim, Audience: s.Audience, Leeway: 30 * time.Second}, nil
	case s.IntrospectionURL != "":
		v := &IntrospectionVerifier{URL: s.IntrospectionURL, ClientID: s.ClientID, UserClaim: s.UserClaim}
		if s.ClientSecretFile != "" {
			secret, err := read(s.ClientSecretFile)
			if err != nil {
				return nil, fmt.Errorf("auth: reading OAuth client secret: %w", err)
			}
			v.ClientSecret = string(secret)
		}
		return v, nil
	}
	return nil, nil
}
