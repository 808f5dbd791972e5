-- Outbox leases: every node runs a mail and a webhook worker, and a worker
-- claims what is due with FOR UPDATE SKIP LOCKED, leasing it until
-- leased_until, so that one node delivers it (another, after the lease, if
-- that node died holding it). Core's records do not carry the lease: the
-- Put methods never write this column.

-- +goose Up
ALTER TABLE messages ADD COLUMN leased_until timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00';
ALTER TABLE webhook_deliveries ADD COLUMN leased_until timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00';

-- +goose Down
ALTER TABLE webhook_deliveries DROP COLUMN leased_until;
ALTER TABLE messages DROP COLUMN leased_until;
