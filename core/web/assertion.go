package web

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"latchkey/core"
)

// AssertionTTL is how long an upstream assertion is valid; one is reused
// for at most half of that.
const AssertionTTL = time.Minute

// assertions signs the X-Latchkey-Assertion that tells an upstream who is
// asking: a JWT (EdDSA, the key file's Ed25519 key, its id as kid) with
// issuer the public URL, audience the portal's slug, subject the user's
// id, and email, name, role and portal claims, expiring a minute after it
// was issued. The public key is at /.well-known/jwks.json.
type assertions struct {
	signer jose.Signer
	jwks   []byte
	issuer string
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]identity // session hash, portal and role → identity
}

// identity is what an upstream is told of the person, ready for its
// headers.
type identity struct {
	user, email, name, role, portal, jwt string
	until                                time.Time // reuse it until then
}

// assertionClaims are latchkey's own claims beside the registered ones.
type assertionClaims struct {
	Email  string `json:"email"`
	Name   string `json:"name,omitempty"`
	Role   string `json:"role"`
	Portal string `json:"portal"`
}

func newAssertions(keys *core.Keys, issuer string, now func() time.Time) (*assertions, error) {
	priv, kid := keys.SigningKey()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(jose.EdDSA)}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public().(ed25519.PublicKey), KeyID: kid, Algorithm: string(jose.EdDSA), Use: "sig"}}}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	return &assertions{signer: signer, jwks: jwks, issuer: issuer, now: now, cache: map[string]identity{}}, nil
}

// get returns the identity headers and a valid assertion for the gate's
// user at its portal.
func (a *assertions) get(g core.Gate) (identity, error) {
	key := hex.EncodeToString(g.Session.Hash) + "/" + strconv.FormatUint(g.Portal.ID, 10) + "/" + string(g.Role)
	now := a.now()
	a.mu.Lock()
	c, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Before(c.until) {
		return c, nil
	}
	claims := jwt.Claims{Issuer: a.issuer, Audience: jwt.Audience{g.Portal.Slug}, Subject: strconv.FormatUint(g.User.ID, 10),
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)), Expiry: jwt.NewNumericDate(now.Add(AssertionTTL))}
	own := assertionClaims{Email: g.User.Email, Name: g.User.Name, Role: string(g.Role), Portal: g.Portal.Slug}
	raw, err := jwt.Signed(a.signer).Claims(claims).Claims(own).Serialize()
	if err != nil {
		return identity{}, err
	}
	id := identity{user: claims.Subject, email: headerText(core.AddressASCII(g.User.Email)), name: headerText(g.User.Name),
		role: string(g.Role), portal: g.Portal.Slug, jwt: raw, until: now.Add(AssertionTTL / 2)}
	a.mu.Lock()
	if len(a.cache) > 10_000 {
		for k, v := range a.cache {
			if !now.Before(v.until) {
				delete(a.cache, k)
			}
		}
	}
	a.cache[key] = id
	a.mu.Unlock()
	return id, nil
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(s.assertions.jwks)
}
