import type pg from 'pg';

export interface Checkpoint {
  uidValidity: string;
  /** Every message with a UID up to this one reached Kafka. */
  lastUid: number;
}

/** Per-mailbox `(UIDVALIDITY, last UID)` in Postgres (table imap_checkpoints). */
export interface CheckpointStore {
  load(mailbox: string): Promise<Checkpoint | null>;
  save(mailbox: string, checkpoint: Checkpoint): Promise<void>;
}

export function createPgCheckpointStore(pool: pg.Pool): CheckpointStore {
  return {
    load: async (mailbox) => {
      const { rows } = await pool.query<{ uid_validity: string; last_uid: string }>(
        'select uid_validity, last_uid from imap_checkpoints where mailbox = $1',
        [mailbox],
      );
      const row = rows[0];
      return row ? { uidValidity: row.uid_validity, lastUid: Number(row.last_uid) } : null;
    },
    save: async (mailbox, c) => {
      // Never moves backwards within one UIDVALIDITY: two pollers racing on a mailbox
      // (a rolling deploy) cannot un-ingest each other's progress.
      await pool.query(
        `insert into imap_checkpoints (mailbox, uid_validity, last_uid, updated_at)
         values ($1, $2, $3, now())
         on conflict (mailbox) do update set
           last_uid = case when imap_checkpoints.uid_validity = excluded.uid_validity
                           then greatest(imap_checkpoints.last_uid, excluded.last_uid)
                           else excluded.last_uid end,
           uid_validity = excluded.uid_validity, updated_at = now()`,
        [mailbox, c.uidValidity, c.lastUid],
      );
    },
  };
}
