import type pg from 'pg';

/**
 * Marks the recipients a bounce reports as undeliverable, so the notifier stops
 * mailing them (table owned by the notifier). Idempotent: the latest bounce wins.
 */
export async function markUndeliverable(
  pool: pg.Pool,
  bounces: readonly { addresses: readonly string[]; reason: string | null }[],
): Promise<number> {
  const rows = bounces.flatMap((b) =>
    b.addresses.map((a) => ({ address: a.toLowerCase(), reason: b.reason ?? 'bounce' })),
  );
  if (rows.length === 0) return 0;
  // One row per address: a batch may hold two bounces for the same recipient.
  const unique = [...new Map(rows.map((r) => [r.address, r])).values()];
  await pool.query(
    `insert into undeliverable_addresses (address, reason, bounced_at)
     select a, r, now() from unnest($1::text[], $2::text[]) as t(a, r)
     on conflict (address) do update set reason = excluded.reason, bounced_at = excluded.bounced_at`,
    [unique.map((r) => r.address), unique.map((r) => r.reason.slice(0, 1000))],
  );
  return unique.length;
}
