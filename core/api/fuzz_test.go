package api

import (
	"errors"
	"testing"
)

// FuzzDecodeBodies: no body, however broken, panics the decoder, and every
// refusal is a problem the API answers with 400.
func FuzzDecodeBodies(f *testing.F) {
	for _, s := range []string{`{"email":"a@b.test","role":"client"}`, `{"email":1}`, `[`, `{} {}`, `{"title":null}`,
		`{"link_uses":"5","auto_grant":"acme.test=client"}`, `{"role":"guest","guest_until":"2099-01-01"}`, `{"confirm":"yes"}`,
		`{"url":"https://203.0.113.7/h","events":["all"]}`, `{"url":"x","events":"link.redeemed"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []any{&inviteJSON{}, &portalPatchJSON{}, &roleChangeJSON{}, &grantJSON{}, &newWebhookJSON{}, &struct{}{}} {
			err := decodeBytes(b, v)
			var ae apiError
			if err != nil && (!errors.As(err, &ae) || ae.p.Status != 400 || ae.p.Title == "") {
				t.Fatalf("%q into %T: %v", b, v, err)
			}
		}
	})
}
