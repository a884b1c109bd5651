-- Up Migration
-- The foundation: a table the stack uses to prove the schema is migrated, and the
-- processed-event ledger every idempotent consumer writes its effect keys to.
CREATE TABLE processed_events (
  consumer    text        NOT NULL CHECK (consumer <> ''),
  event_id    text        NOT NULL CHECK (event_id <> ''),
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Down Migration
DROP TABLE processed_events;
