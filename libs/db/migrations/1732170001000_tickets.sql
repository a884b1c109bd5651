-- Up Migration
-- Ticket state, owned by ticket-store (its only writer). Constraints live here, in the
-- database, so no code path can store a ticket that breaks them.

CREATE SEQUENCE ticket_number_seq START WITH 1000;

CREATE TABLE tickets (
  id               uuid        PRIMARY KEY,
  number           bigint      NOT NULL UNIQUE DEFAULT nextval('ticket_number_seq'),
  -- 'api:<submission id>' or 'email:<mailbox>:<Message-ID>': a redelivered record finds its ticket
  source_key       text        NOT NULL UNIQUE CHECK (source_key <> ''),
  title            text        NOT NULL CHECK (length(title) BETWEEN 1 AND 2000),
  description      text        NOT NULL,
  requester_email  text        NOT NULL CHECK (requester_email ~ '^[^@\s]+@[^@\s]+$'),
  requester_name   text,
  channel          text        NOT NULL CHECK (channel IN ('email', 'api')),
  status           text        NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'in_progress', 'resolved', 'closed')),
  priority         text        CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  category         text,
  department       text,
  assignee         text,
  hints            jsonb       NOT NULL DEFAULT '{}',
  attachments      jsonb       NOT NULL DEFAULT '[]',
  categorization   jsonb,
  needs_review     boolean     NOT NULL DEFAULT false,
  message_id       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  categorized_at   timestamptz,
  routed_at        timestamptz,
  acknowledged_at  timestamptz,
  resolved_at      timestamptz,
  closed_at        timestamptz,
  search           tsvector    GENERATED ALWAYS AS (
                     setweight(to_tsvector('simple', title), 'A') ||
                     setweight(to_tsvector('simple', left(description, 200000)), 'B')) STORED,
  CHECK (updated_at >= created_at)
);
CREATE INDEX tickets_status_idx ON tickets (status, created_at DESC);
CREATE INDEX tickets_department_idx ON tickets (department, status, created_at DESC);
CREATE INDEX tickets_category_idx ON tickets (category, created_at DESC);
CREATE INDEX tickets_priority_idx ON tickets (priority, created_at DESC);
CREATE INDEX tickets_created_idx ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_requester_idx ON tickets (requester_email);
CREATE INDEX tickets_search_idx ON tickets USING gin (search);

CREATE TABLE ticket_messages (
  id               uuid        PRIMARY KEY,
  ticket_id        uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  -- dedupe of redelivered records: 'api:<submission>' / 'email:<mailbox>:<Message-ID>'
  source_key       text        NOT NULL UNIQUE,
  direction        text        NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  author_email     text        NOT NULL,
  author_name      text,
  author_role      text        NOT NULL CHECK (author_role IN ('requester', 'agent', 'cc', 'unknown', 'system')),
  subject          text,
  body_text        text        NOT NULL,
  reply_text       text        NOT NULL,
  message_id       text,
  automated_kind   text,
  raw_blob_id      text,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_messages_ticket_idx ON ticket_messages (ticket_id, created_at);

-- Threading index: Message-IDs (ours and theirs) → ticket.
CREATE TABLE ticket_thread_index (
  message_id       text        PRIMARY KEY,
  ticket_id        uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE
);
CREATE INDEX ticket_thread_index_ticket_idx ON ticket_thread_index (ticket_id);

CREATE TABLE ticket_status_history (
  event_id         uuid        PRIMARY KEY,
  ticket_id        uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  from_status      text        NOT NULL,
  to_status        text        NOT NULL,
  actor_type       text        NOT NULL,
  actor_id         text        NOT NULL,
  reason           text,
  at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_status_history_ticket_idx ON ticket_status_history (ticket_id, at);

-- Every command applied or rejected, with the reason: a command runs once.
CREATE TABLE ticket_commands (
  command_id       uuid        PRIMARY KEY,
  ticket_id        uuid        NOT NULL,
  kind             text        NOT NULL,
  outcome          text        NOT NULL CHECK (outcome IN ('applied', 'rejected')),
  code             text,
  reason           text,
  actor_id         text        NOT NULL,
  at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_commands_ticket_idx ON ticket_commands (ticket_id, at);

-- Routing decisions, owned by the router (read by the API).
CREATE TABLE routing_history (
  event_id         uuid        PRIMARY KEY,
  ticket_id        uuid        NOT NULL,
  department       text        NOT NULL,
  previous_department text,
  kind             text        NOT NULL CHECK (kind IN ('routed', 'rerouted')),
  rule             text        NOT NULL,
  confidence       double precision CHECK (confidence BETWEEN 0 AND 1),
  decided_by       text        NOT NULL,
  reason           text,
  at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routing_history_ticket_idx ON routing_history (ticket_id, at);
CREATE INDEX routing_history_department_idx ON routing_history (department, kind);

-- API keys: only the SHA-256 of a key is stored.
CREATE TABLE api_keys (
  id               uuid        PRIMARY KEY,
  name             text        NOT NULL UNIQUE CHECK (name <> ''),
  key_hash         text        NOT NULL UNIQUE CHECK (length(key_hash) = 64),
  scopes           text[]      NOT NULL CHECK (scopes <@ ARRAY['intake', 'agent', 'admin']::text[] AND cardinality(scopes) > 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  revoked_at       timestamptz
);

-- Idempotency-Key of POST /api/tickets: same key + same body → same ticket.
CREATE TABLE idempotency_keys (
  api_key_id       uuid        NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  key              text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash     text        NOT NULL,
  ticket_id        uuid        NOT NULL,
  submission_id    uuid        NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (api_key_id, key)
);

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE api_keys;
DROP TABLE routing_history;
DROP TABLE ticket_commands;
DROP TABLE ticket_status_history;
DROP TABLE ticket_thread_index;
DROP TABLE ticket_messages;
DROP TABLE tickets;
DROP SEQUENCE ticket_number_seq;
