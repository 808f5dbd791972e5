package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// ParseAuthorizedKey reads one public key in authorized_keys form ("ssh-ed25519
// AAAA… comment"); options are not accepted.
func ParseAuthorizedKey(line string) (ssh.PublicKey, string, error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil, "", invalid("key", "paste a public key, like ssh-ed25519 AAAA… you@laptop")
	}
	if strings.ContainsAny(line, "\r\n") {
		return nil, "", invalid("key", "give one key per line")
	}
	pk, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, "", invalid("key", "this is not an SSH public key (give the contents of a .pub file, not the private key)")
	}
	if len(options) > 0 || len(rest) > 0 {
		return nil, "", invalid("key", "give the key alone, without authorized_keys options")
	}
	comment, err = cleanName("key comment", comment, false)
	return pk, comment, err
}

// Fingerprint is the SHA256 fingerprint of a key, as OpenSSH prints it.
func Fingerprint(pk ssh.PublicKey) string { return ssh.FingerprintSHA256(pk) }

// mayManageKeys: everyone manages their own keys and an instance admin
// manages all. An owner manages the keys of a person only when they own
// every organization where that person uses the console: a key opens all of
// them, so an owner must not be able to reach into another organization.
func (op *operation) mayManageKeys(a Actor, target User) error {
	if a.Admin || a.UserID == target.ID {
		return nil
	}
	orgs, err := op.consoleOrgs(target.ID)
	if err != nil {
		return err
	}
	for _, org := range orgs {
		m, err := op.Member(org, a.UserID)
		if err != nil || m.Role != RoleOwner {
			return forbidden("you may manage only your own keys, or as an owner the keys of your own managers")
		}
	}
	if len(orgs) == 0 {
		return forbidden("you may manage only your own keys")
	}
	return nil
}

// MayManageKeys says whether a may add or remove the SSH keys of the user:
// nil, or the refusal AddSSHKey and RemoveSSHKey would give.
func (s *Accounts) MayManageKeys(ctx context.Context, a Actor, userID uint64) error {
	return s.read(ctx, func(op *operation) error {
		u, err := op.User(userID)
		if err != nil {
			return notFoundAs(err, "user", fmt.Sprint(userID))
		}
		return op.mayManageKeys(a, u)
	})
}

// consoleOrgs lists the organizations where the user is owner or manager.
func (op *operation) consoleOrgs(userID uint64) ([]uint64, error) {
	ms, err := op.MembershipsOf(userID)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, m := range ms {
		if m.Role.UsesConsole() {
			out = append(out, m.OrgID)
		}
	}
	return out, nil
}

// AddSSHKey registers a public key for an owner or manager, so they can use
// the SSH console. A key belongs to one account.
func (s *Accounts) AddSSHKey(ctx context.Context, a Actor, rawEmail, line string) (SSHKey, error) {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return SSHKey{}, err
	}
	pk, comment, err := ParseAuthorizedKey(line)
	if err != nil {
		return SSHKey{}, err
	}
	k := SSHKey{Fingerprint: Fingerprint(pk), PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))), Comment: comment}
	err = s.write(ctx, func(op *operation) error {
		u, err := op.UserByEmail(email)
		if err != nil {
			return notFoundAs(err, "account with the email", email)
		}
		orgs, err := op.consoleOrgs(u.ID)
		if err != nil {
			return err
		}
		if len(orgs) == 0 {
			return forbidden("%s is not an owner or manager of any organization; only they use the console", email)
		}
		if err := op.mayManageKeys(a, u); err != nil {
			return err
		}
		if prev, err := op.SSHKey(k.Fingerprint); err == nil {
			if prev.UserID == u.ID {
				return conflict("this key is registered to %s already", email)
			}
			return conflict("this key belongs to another account; each key belongs to one person")
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		k.UserID, k.AddedAt, k.AddedBy = u.ID, op.now, a.label()
		if err := op.PutSSHKey(k); err != nil {
			return err
		}
		for _, org := range orgs {
			op.changed(Change{Kind: ChangeKeyChanged, OrgID: org})
			if err := op.audit(a, org, "sshkey.added", email, k.Fingerprint); err != nil {
				return err
			}
		}
		return nil
	})
	return k, err
}

// RemoveSSHKey removes a console key.
func (s *Accounts) RemoveSSHKey(ctx context.Context, a Actor, fingerprint string) error {
	return s.write(ctx, func(op *operation) error {
		k, err := op.SSHKey(fingerprint)
		if err != nil {
			return notFoundAs(err, "key", clip(fingerprint))
		}
		u, err := op.User(k.UserID)
		if err != nil {
			return err
		}
		if err := op.mayManageKeys(a, u); err != nil {
			return err
		}
		if err := op.DeleteSSHKey(fingerprint); err != nil {
			return err
		}
		orgs, err := op.consoleOrgs(u.ID)
		if err != nil {
			return err
		}
		for _, org := range orgs {
			op.changed(Change{Kind: ChangeKeyChanged, OrgID: org})
			if err := op.audit(a, org, "sshkey.removed", u.Email, fingerprint); err != nil {
				return err
			}
		}
		return nil
	})
}

// ConsoleUser is the account a console key belongs to, if that account is
// an owner or manager now. Anything else is ErrForbidden.
func (s *Accounts) ConsoleUser(ctx context.Context, fingerprint string) (User, error) {
	var u User
	err := s.read(ctx, func(op *operation) error {
		k, err := op.SSHKey(fingerprint)
		if errors.Is(err, ErrNotFound) {
			return forbidden("this key is not registered")
		}
		if err != nil {
			return err
		}
		if u, err = op.User(k.UserID); err != nil {
			return err
		}
		orgs, err := op.consoleOrgs(u.ID)
		if err != nil {
			return err
		}
		if len(orgs) == 0 {
			return forbidden("%s is no longer an owner or manager", u.Email)
		}
		return nil
	})
	return u, err
}
