package storage

import (
	"fmt"

	"latchkey/core"
)

// The store of SSH keys.

func (x *tx) SSHKey(fp string) (core.SSHKey, error) {
	return get[core.SSHKey](x.b(bSSHKeys), []byte(fp))
}

func (x *tx) PutSSHKey(k core.SSHKey) error {
	if old, err := x.SSHKey(k.Fingerprint); err == nil && old.UserID != k.UserID {
		return fmt.Errorf("%w: the key belongs to another account", core.ErrConflict)
	}
	if err := x.b(bSSHKeysUser).Put(cat(u64(k.UserID), []byte(k.Fingerprint)), nil); err != nil {
		return err
	}
	return put(x.b(bSSHKeys), []byte(k.Fingerprint), k)
}

func (x *tx) DeleteSSHKey(fp string) error {
	k, err := x.SSHKey(fp)
	if err != nil {
		return err
	}
	if err := x.b(bSSHKeysUser).Delete(cat(u64(k.UserID), []byte(fp))); err != nil {
		return err
	}
	return x.b(bSSHKeys).Delete([]byte(fp))
}

func (x *tx) SSHKeysOf(userID uint64) ([]core.SSHKey, error) {
	return followIndex(x.b(bSSHKeysUser), u64(userID), func(k, _ []byte) (core.SSHKey, error) { return x.SSHKey(string(k[8:])) })
}
