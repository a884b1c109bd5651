import { createHash, hash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { withTransaction } from '@mailroom/db';

export interface BlobRef {
  /** Hex SHA-256 of the content: the blob id. */
  sha256: string;
  size: number;
}

/**
 * Content-addressed storage for attachments and raw messages. Putting the same bytes
 * twice is a no-op, so a re-ingested mail (crash, UIDVALIDITY change) costs nothing.
 */
export interface BlobStore {
  put(content: Buffer, contentType: string): Promise<BlobRef>;
  /** Many small blobs in one round trip (a batch of raw messages); `sha256` if known. */
  putMany(
    items: readonly { content: Buffer; contentType: string; sha256?: string }[],
  ): Promise<BlobRef[]>;
  /** Streams content in without holding it whole; resolves once it is stored. */
  putStream(content: Readable, contentType: string): Promise<BlobRef>;
  get(sha256: string): Promise<{ content: Buffer; contentType: string } | null>;
}

// One-shot: half the cost of a Hash object per message.
export const sha256Of = (b: Buffer) => hash('sha256', b, 'hex');

// Chunks that go to Postgres one row at a time while a stream is read: small enough
// that a 25 MB attachment never sits in this process, large enough to stay fast.
const CHUNK_BYTES = 512 * 1024;

/** The default BlobStore: the `blobs` table in Postgres (migration 1732170005000). */
export function createPgBlobStore(pool: pg.Pool): BlobStore {
  const putMany: BlobStore['putMany'] = async (items) => {
    if (items.length === 0) return [];
    const refs = items.map((i) => ({
      sha256: i.sha256 ?? sha256Of(i.content),
      size: i.content.length,
    }));
    // The contents travel as one binary parameter, cut apart by the server: a bytea[]
    // parameter would go as hex text, twice the bytes and a string copy of each.
    const offsets: number[] = [];
    let at = 0;
    for (const i of items) {
      offsets.push(at);
      at += i.content.length;
    }
    await pool.query(
      `insert into blobs (sha256, size, content_type, data)
       select s, n, ct, substring($4::bytea from (o + 1)::int for n::int)
         from unnest($1::text[], $2::bigint[], $3::text[], $5::bigint[]) as t(s, n, ct, o)
       on conflict (sha256) do nothing`,
      [
        refs.map((r) => r.sha256),
        refs.map((r) => r.size),
        items.map((i) => i.contentType),
        Buffer.concat(
          items.map((i) => i.content),
          at,
        ),
        offsets,
      ],
    );
    return refs;
  };

  return {
    putMany,
    put: async (content, contentType) => (await putMany([{ content, contentType }]))[0]!,

    putStream: async (content, contentType) => {
      const hasher = createHash('sha256');
      const uploadId = randomUUID();
      let size = 0;
      let seq = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        const data = Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        await pool.query('insert into blob_uploads (upload_id, seq, data) values ($1, $2, $3)', [
          uploadId,
          seq++,
          data,
        ]);
      };
      try {
        for await (const chunk of content) {
          const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
          hasher.update(buf);
          size += buf.length;
          pending.push(buf);
          pendingBytes += buf.length;
          if (pendingBytes >= CHUNK_BYTES) await flush();
        }
        if (seq === 0) {
          // Small content: one insert, no staging rows.
          const data = Buffer.concat(pending, pendingBytes);
          return await putMany([{ content: data, contentType }]).then((r) => r[0]!);
        }
        await flush();
        const sha256 = hasher.digest('hex');
        // Assembled by the server: the whole blob never travels back through Node.
        await withTransaction(pool, async (db) => {
          await db.query(
            `insert into blobs (sha256, size, content_type, data)
             select $2, $3, $4, string_agg(data, ''::bytea order by seq) from blob_uploads where upload_id = $1
             on conflict (sha256) do nothing`,
            [uploadId, sha256, size, contentType],
          );
          await db.query('delete from blob_uploads where upload_id = $1', [uploadId]);
        });
        return { sha256, size };
      } catch (err) {
        if (seq > 0) {
          await pool
            .query('delete from blob_uploads where upload_id = $1', [uploadId])
            .catch(() => undefined); // the original error is what the caller needs
        }
        throw err;
      }
    },

    get: async (sha256) => {
      const { rows } = await pool.query<{ data: Buffer; content_type: string }>(
        'select data, content_type from blobs where sha256 = $1',
        [sha256],
      );
      const row = rows[0];
      return row ? { content: row.data, contentType: row.content_type } : null;
    },
  };
}
