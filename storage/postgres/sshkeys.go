package postgres

import (
	"errors"

	"latchkey/core"
)

// The store of SSH keys.

const sshKeyColumns = `fingerprint, user_id, public_key, comment, added_at, added_by`

func scanSSHKey(r row) (core.SSHKey, error) {
	var k core.SSHKey
	err := r.Scan(&k.Fingerprint, &k.UserID, &k.PublicKey, &k.Comment, &k.AddedAt, &k.AddedBy)
	return k, err
}

func (x *tx) SSHKey(fp string) (core.SSHKey, error) {
	return queryOne(x, scanSSHKey, `SELECT `+sshKeyColumns+` FROM ssh_keys WHERE fingerprint = $1`, fp)
}

func (x *tx) PutSSHKey(k core.SSHKey) error {
	if k.Fingerprint == "" {
		return errors.New("put ssh key: key required") // bbolt refuses an empty key
	}
	taken, err := x.exists(`SELECT 1 FROM ssh_keys WHERE fingerprint = $1 AND user_id <> $2`, k.Fingerprint, k.UserID)
	if err != nil {
		return err
	}
	if taken {
		return conflict("the key belongs to another account")
	}
	_, err = x.exec(`INSERT INTO ssh_keys (`+sshKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (fingerprint) DO UPDATE SET user_id = EXCLUDED.user_id, public_key = EXCLUDED.public_key,
			comment = EXCLUDED.comment, added_at = EXCLUDED.added_at, added_by = EXCLUDED.added_by`,
		k.Fingerprint, k.UserID, k.PublicKey, k.Comment, ts(k.AddedAt), k.AddedBy)
	return err
}

func (x *tx) DeleteSSHKey(fp string) error {
	n, err := x.exec(`DELETE FROM ssh_keys WHERE fingerprint = $1`, fp)
	if err == nil && n == 0 {
		err = core.ErrNotFound
	}
	return err
}

// SSHKeysOf lists a user's keys by fingerprint, in byte order as bbolt's
// user|fingerprint keys sort (fingerprints mix cases: no locale's order).
func (x *tx) SSHKeysOf(userID uint64) ([]core.SSHKey, error) {
	return queryAll(x, scanSSHKey, `SELECT `+sshKeyColumns+` FROM ssh_keys
		WHERE user_id = $1 ORDER BY fingerprint COLLATE "C"`, userID)
}
