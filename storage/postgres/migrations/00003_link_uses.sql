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
CREATE INDEX link_events_unfolded ON link_events (link_id) WHERE unfolded;
CREATE SEQUENCE session_ids INCREMENT BY 64;

-- +goose Down
DROP SEQUENCE session_ids;
DROP INDEX link_events_unfolded;
ALTER TABLE link_events DROP COLUMN unfolded;
