-- Up Migration
-- imap-poller state. The checkpoint is (UIDVALIDITY, last UID) per mailbox, never the
-- \Seen flag: a person reading the mailbox must not change what the poller ingests.
CREATE TABLE imap_checkpoints (
  mailbox          text        PRIMARY KEY CHECK (mailbox <> ''),
  uid_validity     text        NOT NULL,
  last_uid         bigint      NOT NULL CHECK (last_uid >= 0),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Content-addressed blobs (attachments, raw messages): the key is the SHA-256 of the
-- content, so storing the same bytes twice is a no-op.
CREATE TABLE blobs (
  sha256           text        PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size             bigint      NOT NULL CHECK (size >= 0),
  content_type     text        NOT NULL,
  data             bytea       NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- Chunks of a blob being streamed in; assembled server-side into `blobs` when the
-- stream ends, so the poller never holds a whole large attachment in memory.
CREATE UNLOGGED TABLE blob_uploads (
  upload_id        uuid        NOT NULL,
  seq              integer     NOT NULL,
  data             bytea       NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (upload_id, seq)
);

-- Owned by the notifier (migration 1732170004000); created here too in case this one
-- is applied first. Same columns, so whichever runs first wins.
CREATE TABLE IF NOT EXISTS undeliverable_addresses (
  address          text        PRIMARY KEY,
  reason           text,
  bounced_at       timestamptz
);

-- Who may thread onto a ticket by subject tag or References (ticket-store writes it
-- from email): the requester, the people CC'd on its mail, and whoever wrote on it.
-- A stranger copying a subject tag opens a new ticket instead of hijacking this one.
CREATE TABLE IF NOT EXISTS ticket_participants (
  ticket_id        uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  email            text        NOT NULL CHECK (email = lower(email)),
  role             text        NOT NULL CHECK (role IN ('requester', 'cc', 'agent')),
  added_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ticket_id, email)
);

-- Down Migration
DROP TABLE IF EXISTS ticket_participants;
DROP TABLE blob_uploads;
DROP TABLE blobs;
DROP TABLE imap_checkpoints;
