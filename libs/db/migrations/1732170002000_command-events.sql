-- Up Migration
-- The events a command produced, so a redelivered command re-emits exactly them.
ALTER TABLE ticket_commands ADD COLUMN events jsonb NOT NULL DEFAULT '[]';

-- Down Migration
ALTER TABLE ticket_commands DROP COLUMN events;
