-- A redemption appends its use to link_events, marked unfolded, instead of
-- updating its link's row: it takes no lock on the link that every other
-- redemption of that link would wait for. A fold adds the unfolded uses to
-- their links' use_count and last_used_at and clears the mark, in one
-- transaction; every read of a link adds the uses still marked.
--
-- New sessions are keyed by an id from session_ids followed by the hash of
-- their secret, so that they go at the right edge of the index. The
-- sequence counts in steps of 64: each node hands out a block of 64 ids
-- from one nextval.

-- +goose Up
ALTER TABLE link_events ADD COLUMN unfolded boolean NOT NULL DEFAULT false;
-- The fold finds the unfolded uses, oldest first, by this index; a read of
-- a link counts its own through link_events_by_link (link_id, id). An index
-- of the unfolded uses by link would be a few pages that every redemption
-- reads and writes, and serializable redemptions beside each other would
-- fail on its predicate locks.
CREATE INDEX link_events_unfolded ON link_events (id) WHERE unfolded;
CREATE SEQUENCE session_ids INCREMENT BY 64;

-- +goose Down
DROP SEQUENCE session_ids;
DROP INDEX link_events_unfolded;
ALTER TABLE link_events DROP COLUMN unfolded;
