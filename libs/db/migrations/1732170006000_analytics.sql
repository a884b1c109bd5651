-- Up Migration
-- Analytics rollups, owned by apps/analytics (their only writer), built from the events
-- on tickets.events alone. Every table is a function of the applied events: replaying
-- the topic into an empty schema rebuilds the same rows. Unqualified names on purpose:
-- a replay can run this file with another search_path.

-- The ledger: one row per applied event, written in the same transaction as the rollup
-- change, so a redelivered event changes nothing.
CREATE TABLE analytics_applied_events (
  event_id         uuid        PRIMARY KEY,
  event_type       text        NOT NULL,
  ticket_id        uuid,
  applied_at       timestamptz NOT NULL DEFAULT now()
);

-- Event-carried state of each ticket (never read from the tickets table).
CREATE TABLE analytics_tickets (
  ticket_id        uuid        PRIMARY KEY,
  created_at       timestamptz,
  channel          text,
  department       text,
  category         text,
  priority         text,
  status           text,
  -- counted in analytics_ticket_volume / analytics_ticket_states (after ticket.created)
  counted          boolean     NOT NULL DEFAULT false,
  routed_department text,
  routed_mode      text        CHECK (routed_mode IN ('auto', 'manual')),
  rerouted         boolean     NOT NULL DEFAULT false,
  acknowledged_at  timestamptz,
  first_response_at timestamptz,
  resolved_at      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Tickets by hour of creation and their current dimensions: a ticket is counted once,
-- its count moves to another cell when its department/category/priority changes.
CREATE TABLE analytics_ticket_volume (
  hour             timestamptz NOT NULL,
  department       text        NOT NULL,
  category         text        NOT NULL,
  priority         text        NOT NULL,
  channel          text        NOT NULL,
  tickets          bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, department, category, priority, channel)
);

-- Tickets by current dimensions and status (backlog = pending + in_progress).
CREATE TABLE analytics_ticket_states (
  department       text        NOT NULL,
  category         text        NOT NULL,
  priority         text        NOT NULL,
  channel          text        NOT NULL,
  status           text        NOT NULL,
  tickets          bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (department, category, priority, channel, status)
);

CREATE TABLE analytics_status_transitions (
  hour             timestamptz NOT NULL,
  department       text        NOT NULL,
  from_status      text        NOT NULL,
  to_status        text        NOT NULL,
  transitions      bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, department, from_status, to_status)
);

-- Durations (ack, first_response, resolution) as fixed histograms: observations per
-- bucket (not cumulative; le = upper bound in seconds, 'Infinity' for the last one).
CREATE TABLE analytics_duration_buckets (
  metric           text        NOT NULL CHECK (metric IN ('ack', 'first_response', 'resolution')),
  department       text        NOT NULL,
  priority         text        NOT NULL,
  le               double precision NOT NULL,
  observations     bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (metric, department, priority, le)
);
CREATE TABLE analytics_duration_totals (
  metric           text        NOT NULL CHECK (metric IN ('ack', 'first_response', 'resolution')),
  department       text        NOT NULL,
  priority         text        NOT NULL,
  observations     bigint      NOT NULL DEFAULT 0,
  sum_seconds      double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (metric, department, priority)
);

-- Automatic routing accuracy: tickets by their first department and how it was decided,
-- and how many of them were later rerouted away (counted once per ticket).
CREATE TABLE analytics_routing (
  department       text        NOT NULL,
  mode             text        NOT NULL CHECK (mode IN ('auto', 'manual')),
  routed           bigint      NOT NULL DEFAULT 0,
  rerouted_away    bigint      NOT NULL DEFAULT 0,
  confidence_sum   double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (department, mode)
);
CREATE TABLE analytics_reroutes (
  from_department  text        NOT NULL,
  to_department    text        NOT NULL,
  actor_type       text        NOT NULL,
  reroutes         bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (from_department, to_department, actor_type)
);

-- Categorizations by method and department, by confidence bucket (not cumulative).
CREATE TABLE analytics_categorizations (
  method           text        NOT NULL,
  department       text        NOT NULL,
  confidence_le    double precision NOT NULL,
  categorizations  bigint      NOT NULL DEFAULT 0,
  confidence_sum   double precision NOT NULL DEFAULT 0,
  needs_review     bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (method, department, confidence_le)
);

-- Classifier calls (LLM and local) as the events report them: latency, tokens, cost.
CREATE TABLE analytics_llm_usage (
  method           text        NOT NULL,
  model            text        NOT NULL,
  calls            bigint      NOT NULL DEFAULT 0,
  latency_sum_seconds double precision NOT NULL DEFAULT 0,
  input_tokens     bigint      NOT NULL DEFAULT 0,
  output_tokens    bigint      NOT NULL DEFAULT 0,
  cache_read_tokens bigint     NOT NULL DEFAULT 0,
  cache_write_tokens bigint    NOT NULL DEFAULT 0,
  cost_usd         double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (method, model)
);
CREATE TABLE analytics_llm_latency_buckets (
  method           text        NOT NULL,
  model            text        NOT NULL,
  le               double precision NOT NULL,
  calls            bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (method, model, le)
);

-- Down Migration
DROP TABLE analytics_llm_latency_buckets;
DROP TABLE analytics_llm_usage;
DROP TABLE analytics_categorizations;
DROP TABLE analytics_reroutes;
DROP TABLE analytics_routing;
DROP TABLE analytics_duration_totals;
DROP TABLE analytics_duration_buckets;
DROP TABLE analytics_status_transitions;
DROP TABLE analytics_ticket_states;
DROP TABLE analytics_ticket_volume;
DROP TABLE analytics_tickets;
DROP TABLE analytics_applied_events;
