package postgres

import (
	"fmt"

	"latchkey/core"
)

// The store of organizations' logos, by hash.

var _ core.LogoStore = (*tx)(nil)

const logoColumns = `hash, image, icon, width, height, created_at`

func scanLogo(r row) (core.Logo, error) {
	var l core.Logo
	err := r.Scan(&l.Hash, &l.Image, &l.Icon, &l.Width, &l.Height, &l.CreatedAt)
	return l, err
}

func (x *tx) Logo(hash string) (core.Logo, error) {
	return queryOne(x, scanLogo, `SELECT `+logoColumns+` FROM logos WHERE hash = $1`, hash)
}

// PutLogo stores a logo under its hash. A logo never changes once stored,
// so storing one again under the same hash writes nothing.
func (x *tx) PutLogo(l core.Logo) error {
	if !core.IsLogoHash(l.Hash) {
		return fmt.Errorf("put logo: %q is not a logo hash", l.Hash)
	}
	_, err := x.exec(`INSERT INTO logos (`+logoColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (hash) DO NOTHING`, l.Hash, l.Image, l.Icon, l.Width, l.Height, ts(l.CreatedAt))
	return err
}
