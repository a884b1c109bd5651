-- Up Migration
-- The router's own state (DESIGN.md: the router keeps its rules and routing history).
-- router_tickets holds the few fields of ticket.created that a routing decision and
-- ticket.routed need (event-carried state: the router never reads the tickets table).
CREATE TABLE router_tickets (
  ticket_id        uuid        PRIMARY KEY,
  number           bigint,
  title            text,
  -- for keyword rules; the first 20,000 characters are enough to find a keyword
  description      text,
  requester_email  text,
  requester_name   text,
  message_id       text,
  automated        boolean     NOT NULL DEFAULT false,
  -- the department the ticket is in now (null until routed), and the priority it got
  department       text,
  priority         text        CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  routed_at        timestamptz
);

-- The exact event a decision emitted, so a redelivered cause re-emits the same event
-- (same id) instead of deciding again; and the priority it set.
ALTER TABLE routing_history ADD COLUMN priority text;
ALTER TABLE routing_history ADD COLUMN event jsonb;

-- Down Migration
ALTER TABLE routing_history DROP COLUMN event;
ALTER TABLE routing_history DROP COLUMN priority;
DROP TABLE router_tickets;
