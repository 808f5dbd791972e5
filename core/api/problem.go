package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"latchkey/core"
)

// Problems are RFC 9457 documents: a stable type, core's sentence as the
// title, and the fields that are wrong.
type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []fieldError `json:"errors,omitempty"`
	// MissingScope is the scope the token lacks (403 of a scope).
	MissingScope string `json:"missing_scope,omitempty"`
	// RetryAfter is how many seconds to wait (429), as the header says.
	RetryAfter int `json:"retry_after,omitempty"`
}

type fieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// The problem types: stable, documented in the OpenAPI document.
const (
	typeBase                = "https://latchkey.dev/problems/"
	typeMalformed           = typeBase + "malformed-request"   // 400: not JSON, unknown field, wrong type, too large
	typeInvalid             = typeBase + "invalid"             // 422 (400 for a bad header or query parameter)
	typeUnauthorized        = typeBase + "unauthorized"        // 401
	typeForbidden           = typeBase + "forbidden"           // 403
	typeMissingScope        = typeBase + "missing-scope"       // 403
	typeNotFound            = typeBase + "not-found"           // 404
	typeConflict            = typeBase + "conflict"            // 409
	typeNeedsConfirmation   = typeBase + "needs-confirmation"  // 409: repeat with confirm / replace
	typeLinkInactive        = typeBase + "link-inactive"       // 409
	typeIdempotencyInFlight = typeBase + "idempotency-pending" // 409
	typeIdempotencyMismatch = typeBase + "idempotency-mismatch"
	typeRateLimited         = typeBase + "rate-limited" // 429
	typeInternal            = typeBase + "internal"     // 500
)

// apiError is a problem an endpoint builds itself (a malformed body, a bad
// parameter).
type apiError struct{ p *problem }

func (e apiError) Error() string { return e.p.Title }

func malformed(format string, args ...any) error {
	return apiError{&problem{Type: typeMalformed, Status: http.StatusBadRequest, Title: fmt.Sprintf(format, args...)}}
}

func badField(status int, field, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	t := typeInvalid
	if status == http.StatusBadRequest {
		t = typeMalformed
	}
	return apiError{&problem{Type: t, Status: status, Title: core.FirstUpper(field + ": " + reason),
		Errors: []fieldError{{Field: field, Reason: reason}}}}
}

func missingScope(s core.Scope) *problem {
	return &problem{Type: typeMissingScope, Status: http.StatusForbidden, MissingScope: string(s),
		Title: fmt.Sprintf("This token does not have the %s scope, which this request needs", s)}
}

// problemOf maps an error to its problem: core's sentinels to their
// statuses, core.Describe's sentence as the title.
func problemOf(err error) *problem {
	var ae apiError
	if errors.As(err, &ae) {
		return ae.p
	}
	title := core.Describe(err)
	p := &problem{Title: title}
	var ve *core.ValidationError
	var fc *core.FieldConflict
	var rl *core.RateLimitError
	switch {
	case errors.As(err, &ve):
		p.Type, p.Status = typeInvalid, http.StatusUnprocessableEntity
		p.Errors = []fieldError{{Field: apiField(ve.Field), Reason: ve.Reason}}
	case errors.Is(err, core.ErrInvalid):
		p.Type, p.Status = typeInvalid, http.StatusUnprocessableEntity
	case errors.Is(err, core.ErrUnauthenticated):
		p.Type, p.Status = typeUnauthorized, http.StatusUnauthorized
		p.Title = core.FirstUpper(strings.TrimPrefix(err.Error(), core.ErrUnauthenticated.Error()+": "))
	case errors.Is(err, core.ErrForbidden):
		p.Type, p.Status = typeForbidden, http.StatusForbidden
	case errors.Is(err, core.ErrNotFound):
		p.Type, p.Status = typeNotFound, http.StatusNotFound
	case errors.Is(err, core.ErrNeedsConfirmation):
		p.Type, p.Status = typeNeedsConfirmation, http.StatusConflict
	case errors.As(err, &fc):
		p.Type, p.Status = typeConflict, http.StatusConflict
		p.Errors = []fieldError{{Field: apiField(fc.Field), Reason: fc.Reason}}
	case errors.Is(err, core.ErrConflict):
		p.Type, p.Status = typeConflict, http.StatusConflict
	case errors.Is(err, core.ErrLinkInactive), errors.Is(err, core.ErrNoAccess):
		p.Type, p.Status = typeLinkInactive, http.StatusConflict
	case errors.As(err, &rl):
		p.Type, p.Status = typeRateLimited, http.StatusTooManyRequests
		p.RetryAfter = int(math.Ceil(rl.Retry.Seconds()))
		if p.RetryAfter < 1 {
			p.RetryAfter = 1
		}
	default:
		p.Type, p.Status = typeInternal, http.StatusInternalServerError
		p.Title = "Something went wrong on the server; the request may be retried"
	}
	return p
}

// apiField is core's field name as the API's JSON names it.
func apiField(f string) string { return strings.ReplaceAll(f, "-", "_") }

func writeProblem(w http.ResponseWriter, p *problem) {
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="latchkey"`)
	}
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(p)
	writeRaw(w, p.Status, "application/problem+json", buf.Bytes())
}

// readAllLimited reads the body, refusing more than MaxBody bytes.
func readAllLimited(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, malformed("The request body could not be read: %v", err)
	}
	if len(b) > MaxBody {
		return nil, malformed("The request body is larger than %d KB", MaxBody>>10)
	}
	return b, nil
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// decode reads the request's JSON body into v strictly: one object, no
// unknown fields, each field of its type, at most MaxBody bytes. An
// empty body is an empty object.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return malformed("Send the body as application/json (got %s)", ct)
	}
	b, err := readAllLimited(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	return decodeBytes(b, v)
}

// decodeBytes is decode's parsing, on its own for the fuzzer.
func decodeBytes(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				return malformed("The body must be a JSON object")
			}
			return badField(http.StatusBadRequest, field, "must be %s, not %s", jsonKind(te.Type.Kind().String()), te.Value)
		case errors.As(err, &se):
			return malformed("The body is not valid JSON (at byte %d)", se.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badField(http.StatusBadRequest, f, "is not a field of this request")
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return malformed("The body is not valid JSON (it ends too soon)")
		}
		return malformed("The body is not valid JSON: %v", err)
	}
	if dec.More() {
		return malformed("The body must hold one JSON object, and nothing after it")
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("The body must hold one JSON object, and nothing after it")
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "ptr":
		return "a value of another type"
	}
	return "a number"
}
