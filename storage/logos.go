package storage

import (
	"fmt"

	"latchkey/core"
)

// bLogos holds organizations' logos: hash → core.Logo (its PNGs inside).
var bLogos = []byte("logos")

var _ core.LogoStore = (*tx)(nil)

func (x *tx) Logo(hash string) (core.Logo, error) { return get[core.Logo](x.b(bLogos), []byte(hash)) }

// PutLogo stores a logo under its hash. A logo never changes once stored,
// so storing one again under the same hash writes nothing.
func (x *tx) PutLogo(l core.Logo) error {
	if !core.IsLogoHash(l.Hash) {
		return fmt.Errorf("put logo: %q is not a logo hash", l.Hash)
	}
	b := x.b(bLogos)
	if b.Get([]byte(l.Hash)) != nil {
		return nil
	}
	return put(b, []byte(l.Hash), l)
}
