-- Up Migration
-- The notifier's outbox: one row per (ticket, template, triggering event). The row is
-- inserted before anything is sent, so a redelivered event finds it and never sends a
-- second mail; it records why a mail was not sent (suppressed) or failed for good.
CREATE TABLE notifier_outbox (
  id               uuid        PRIMARY KEY,
  ticket_id        uuid        NOT NULL,
  template         text        NOT NULL CHECK (template <> ''),
  trigger_event_id uuid        NOT NULL,
  to_address       text        NOT NULL,
  status           text        NOT NULL CHECK (status IN ('pending', 'sent', 'suppressed', 'failed')),
  -- stable code of why a row is suppressed or failed (noreply_address, rate_limited, smtp_5xx, ...)
  reason           text,
  -- our Message-ID, fixed at insert: a mail re-sent after a crash carries the same one
  message_id       text        NOT NULL UNIQUE,
  -- the values the template is rendered with (number, department, ...)
  params           jsonb       NOT NULL,
  attempts         integer     NOT NULL DEFAULT 0,
  last_error       text,
  smtp_response    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz,
  UNIQUE (ticket_id, template, trigger_event_id),
  CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
  CHECK (status NOT IN ('suppressed', 'failed') OR reason IS NOT NULL)
);
-- the per-requester acknowledgement rate limit counts recent rows of one address
CREATE INDEX notifier_outbox_rate_idx ON notifier_outbox (to_address, template, created_at);
CREATE INDEX notifier_outbox_pending_idx ON notifier_outbox (created_at) WHERE status = 'pending';

-- What the notifier knows of a ticket from ticket.created / ticket.routed / ticket.rerouted:
-- whether the requester is a machine, the Message-ID to thread to, the department.
CREATE TABLE notifier_tickets (
  ticket_id        uuid        PRIMARY KEY,
  number           bigint,
  requester_email  text,
  requester_name   text,
  title            text,
  message_id       text,
  automated        boolean     NOT NULL DEFAULT false,
  department       text,
  priority         text,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Addresses we must not mail: the imap-poller inserts hard bounces here (lower-cased).
-- Its migration creates the same table when it runs first, hence IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS undeliverable_addresses (
  address          text        PRIMARY KEY,
  reason           text,
  bounced_at       timestamptz DEFAULT now()
);

-- Down Migration
DROP TABLE IF EXISTS undeliverable_addresses;
DROP TABLE notifier_tickets;
DROP TABLE notifier_outbox;
