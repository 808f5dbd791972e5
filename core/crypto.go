package core

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// TokenLen is the length of a token in its base64url form: 32 random bytes.
const TokenLen = 43

// KeySize is the size of each instance key.
const KeySize = 32

// Keys are the instance's secrets, kept in a key file beside the database
// and never inside it: the lookup key indexes links by HMAC-SHA256 of their
// token, the data key seals tokens with AES-GCM so that the console can copy
// or re-send an active link, and the signing key (Ed25519) signs the
// assertions a portal's upstream receives.
type Keys struct {
	lookup  []byte
	aead    cipher.AEAD
	macs    sync.Pool // of hash.Hash: HMAC-SHA256 under the lookup key
	signing ed25519.PrivateKey
	keyID   string
}

// NewKeys builds Keys from the three 32-byte secrets (the signing key as
// its Ed25519 seed).
func NewKeys(lookupKey, dataKey, signingSeed []byte) (*Keys, error) {
	if len(lookupKey) != KeySize || len(dataKey) != KeySize || len(signingSeed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keys must be %d bytes each", KeySize)
	}
	block, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	k := &Keys{lookup: append([]byte(nil), lookupKey...), aead: aead, signing: ed25519.NewKeyFromSeed(signingSeed)}
	k.macs.New = func() any { return hmac.New(sha256.New, k.lookup) }
	sum := sha256.Sum256(k.signing.Public().(ed25519.PublicKey))
	k.keyID = base64.RawURLEncoding.EncodeToString(sum[:12])
	return k, nil
}

// SigningKey is the Ed25519 key that signs upstream assertions, and its
// key id (the "kid" of its JWK and of every assertion it signs).
func (k *Keys) SigningKey() (ed25519.PrivateKey, string) { return k.signing, k.keyID }

// Lookup is the index under which a link with this token is stored.
func (k *Keys) Lookup(token string) []byte {
	m := k.macs.Get().(hash.Hash)
	m.Reset()
	io.WriteString(m, token)
	sum := m.Sum(make([]byte, 0, sha256.Size))
	k.macs.Put(m)
	return sum
}

// CheckValue is a fixed HMAC that the store keeps to detect a key file that
// does not belong to the database.
func (k *Keys) CheckValue() []byte { return k.Lookup("latchkey key check v1") }

// Seal encrypts a secret for storage; purpose binds it to its use.
func (k *Keys) Seal(secret, purpose string) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		panic("crypto/rand failed: " + err.Error()) // crypto/rand does not fail on supported platforms
	}
	return k.aead.Seal(nonce, nonce, []byte(secret), []byte(purpose))
}

// Open decrypts what Seal produced for the same purpose.
func (k *Keys) Open(sealed []byte, purpose string) (string, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed value too short")
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(purpose))
	if err != nil {
		return "", errors.New("sealed value does not open with this key file")
	}
	return string(plain), nil
}

// Purposes of sealed secrets.
const (
	sealLink        = "link"
	sealMail        = "mail"
	sealCaught      = "caught"
	sealWebhook     = "webhook"
	sealIdempotency = "idempotency"
)

// NewToken returns 32 bytes from r, base64url without padding (43 characters).
func NewToken(r io.Reader) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// WellFormedToken reports whether s has the shape of a token. It says nothing
// about whether a token exists, and so leaks nothing.
func WellFormedToken(s string) bool {
	if len(s) != TokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// A session's cookie carries its id, from an increasing sequence, and a
// random secret: base64url(id ‖ 32 random bytes), SessionCookieLen long.
// The session is stored under SessionKey: the id, then the secret's
// SHA-256. New sessions so go at the end of their tree (an append, not a
// write at a random place), and the cookie alone finds its record, by a
// key that the database never holds the secret of.
const SessionCookieLen = 54

// newSessionCookie makes the cookie of session id, and its key.
func newSessionCookie(id uint64, r io.Reader) (cookie string, key []byte, err error) {
	var b [40]byte
	binary.BigEndian.PutUint64(b[:8], id)
	if _, err := io.ReadFull(r, b[8:]); err != nil {
		return "", nil, fmt.Errorf("read random: %w", err)
	}
	h := sha256.Sum256(b[8:])
	return base64.RawURLEncoding.EncodeToString(b[:]), append(b[:8:8], h[:]...), nil
}

// SessionKey is the key a session cookie's session is stored under; false
// when the value has no session cookie's shape. A cookie of the older form
// (a token, from before sessions had ids) is stored under its hash, and is
// read until it expires.
func SessionKey(cookie string) ([]byte, bool) {
	if len(cookie) == TokenLen {
		return HashSecret(cookie), WellFormedToken(cookie)
	}
	if len(cookie) != SessionCookieLen {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(cookie)
	if err != nil || len(b) != 40 {
		return nil, false
	}
	h := sha256.Sum256(b[8:])
	return append(b[:8:8], h[:]...), true
}

// WellFormedSession reports whether s has the shape of a session cookie.
func WellFormedSession(s string) bool {
	_, ok := SessionKey(s)
	return ok
}

// HashSecret is how sessions and single-use tokens are stored: SHA-256.
func HashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Argon2Params are the argon2id cost parameters.
type Argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultArgon2 follows RFC 9106's second recommended option (64 MiB, 3 passes).
var DefaultArgon2 = Argon2Params{Time: 3, Memory: 64 * 1024, Threads: 2}

// HashPassword hashes pw with argon2id and a random salt, as a PHC string.
// It fails only when ctx ends while it waits for its turn (see argonSlots).
func HashPassword(ctx context.Context, pw string, p Argon2Params, r io.Reader) (string, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	key, err := argon2id(ctx, pw, salt, p, 32)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword checks pw against a PHC string from HashPassword in constant
// time. A malformed hash never matches. The error is ctx's, when it ends
// while the check waits for its turn.
func VerifyPassword(ctx context.Context, encoded, pw string) (bool, error) {
	p, salt, want, ok := parsePHC(encoded)
	if !ok {
		return false, nil
	}
	got, err := argon2id(ctx, pw, salt, p, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// argonSlots bounds how many argon2 computations run at once. Each holds its
// whole memory cost (64 MiB by default) while it runs, and more of them at
// once than there are processors only take turns on them: unbounded, a burst
// of sign-ins (one address may send 20 within the rate limit) would hold more
// than a GB. Whoever gives up waiting (a client gone) computes nothing.
var argonSlots = make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))

func argon2id(ctx context.Context, pw string, salt []byte, p Argon2Params, n uint32) ([]byte, error) {
	select {
	case argonSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-argonSlots }()
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, n), nil
}

func parsePHC(s string) (p Argon2Params, salt, key []byte, ok bool) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, false
	}
	var threads int
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || threads < 1 || threads > 255 {
		return p, nil, nil, false
	}
	p.Threads = uint8(threads)
	var err1, err2 error
	salt, err1 = base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 = base64.RawStdEncoding.DecodeString(parts[5])
	// Bounds keep a corrupt or hostile hash from costing unbounded memory or time.
	if err1 != nil || err2 != nil || len(key) < 16 || len(key) > 64 || len(salt) < 8 || len(salt) > 64 ||
		p.Time == 0 || p.Time > 16 || p.Memory < 8 || p.Memory > 1<<20 || p.Threads > 16 {
		return p, nil, nil, false
	}
	return p, salt, key, true
}
