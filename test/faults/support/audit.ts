// The final audit of a scenario: every accepted ticket is stored exactly once, routed,
// seen by analytics, and its requester got exactly one acknowledgement mail (counted in
// the real mailbox on GreenMail, not in our own tables). Polls until all of it holds or
// the time is up, then reports the counts either way.
import { afterAll, expect } from 'vitest';
import type { Pipeline } from '../../support/pipeline.js';
import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeadLetterWatch } from './dead-letters.js';
import type { Submission } from './load.js';
import { ackMails, deleteMailUsers, type AckMails } from './mail-users.js';

export interface AuditReport {
  scenario: string;
  submitted: number;
  stored: number;
  routed: number;
  acknowledged: number;
  analyzed: number;
  /** Extra ticket rows for one submission. */
  duplicates: number;
  /** Acknowledgements with a second Message-ID for one ticket (a real duplicate). */
  duplicateMails: number;
  /** The same acknowledgement (same Message-ID) delivered again: SMTP's one window. */
  resentMails: number;
  deadLetters: number;
  /** Titles of tickets that are not (yet) stored / routed / acknowledged. */
  missing: string[];
  waitedMs: number;
}

interface TicketRow {
  id: string;
  number: string;
  title: string;
  routed_at: Date | null;
}

export interface AuditOptions {
  scenario: string;
  pool: pg.Pool;
  submissions: readonly Submission[];
  analyticsSchema: string;
  dlq: DeadLetterWatch;
  marker: string;
  timeoutMs: number;
}

async function measure(
  o: AuditOptions,
  started: number,
  seen: Map<string, AckMails>,
  all: boolean,
): Promise<AuditReport> {
  const requesters = [...new Set(o.submissions.map((s) => s.requester.toLowerCase()))];
  const { rows } = await o.pool.query<TicketRow>(
    'SELECT id, number, title, routed_at FROM tickets WHERE requester_email = ANY($1::text[])',
    [requesters],
  );
  // Titles compared without whitespace differences (ticket-store may normalize them).
  const norm = (t: string) => t.replace(/\s+/g, ' ').trim();
  const byTitle = new Map<string, TicketRow[]>();
  for (const row of rows) {
    const t = norm(row.title);
    byTitle.set(t, [...(byTitle.get(t) ?? []), row]);
  }
  const byId = new Map(rows.map((r) => [r.id, r]));
  // While waiting, only the mailboxes still without an acknowledgement are read again.
  const unread = all ? requesters : requesters.filter((r) => !seen.get(r)?.distinct);
  for (const [email, acks] of await ackMails(unread)) seen.set(email, acks);
  const ids = new Set<string>();
  const report: AuditReport = {
    scenario: o.scenario,
    submitted: o.submissions.length,
    stored: 0,
    routed: 0,
    acknowledged: 0,
    analyzed: 0,
    duplicates: 0,
    duplicateMails: 0,
    resentMails: 0,
    deadLetters: 0,
    missing: [],
    waitedMs: Date.now() - started,
  };
  for (const sub of o.submissions) {
    const found = byTitle.get(norm(sub.title)) ?? [];
    const row = sub.id ? byId.get(sub.id) : found[0];
    report.duplicates += Math.max(0, found.length - 1);
    if (!row) {
      report.missing.push(`not stored: ${sub.title}`);
      continue;
    }
    ids.add(row.id);
    report.stored++;
    if (row.routed_at) report.routed++;
    else report.missing.push(`not routed: ${sub.title}`);
    const acks = seen.get(sub.requester.toLowerCase());
    if (acks?.distinct) report.acknowledged++;
    else report.missing.push(`no ack mail: #${row.number} ${sub.title}`);
    report.duplicateMails += Math.max(0, (acks?.distinct ?? 0) - 1);
    report.resentMails += acks?.resent ?? 0;
  }
  const analyzed = await o.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${o.analyticsSchema}.analytics_tickets WHERE ticket_id = ANY($1::uuid[])`,
    [[...ids]],
  );
  report.analyzed = analyzed.rows[0]?.n ?? 0;
  if (report.analyzed < ids.size)
    report.missing.push(`not in analytics: ${ids.size - report.analyzed}`);
  report.deadLetters = o.dlq.matching(o.marker, ids).length;
  return report;
}

/** Waits until the scenario's tickets went all the way through (or the time is up). */
export async function audit(o: AuditOptions): Promise<AuditReport> {
  const started = Date.now();
  const seen = new Map<string, AckMails>();
  for (;;) {
    const report = await measure(o, started, seen, false);
    const overdue = Date.now() - started > o.timeoutMs;
    if (report.missing.length === 0 || overdue) {
      // A duplicate mail or row would arrive after the first: give it a moment, then
      // read every mailbox once more.
      await sleep(2_000);
      return measure(o, started, seen, true);
    }
    await sleep(1_000);
  }
}

export function formatReports(reports: readonly AuditReport[]): string {
  const cols = [
    'scenario',
    'submitted',
    'stored',
    'routed',
    'acknowledged',
    'analyzed',
    'duplicates',
    'duplicateMails',
    'resentMails',
    'deadLetters',
    'waitedMs',
  ] as const;
  const lines = reports.map((r) => cols.map((c) => String(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ');
  return [fmt(cols), ...lines.map(fmt)].join('\n');
}

/** Every accepted ticket stored once, routed, analyzed, one acknowledgement, no dead letter. */
export function expectClean(report: AuditReport): void {
  expect(report.missing.slice(0, 10)).toEqual([]);
  expect(report).toMatchObject({
    stored: report.submitted,
    routed: report.submitted,
    acknowledged: report.submitted,
    analyzed: report.submitted,
    duplicates: 0,
    duplicateMails: 0,
    deadLetters: 0,
  });
}

/** No app of the pipeline exited without the harness asking it to. */
export function expectNoCrash(pipeline: Pipeline): void {
  for (const app of pipeline.apps.values())
    expect({ app: app.name, crashes: app.crashes }).toEqual({ app: app.name, crashes: [] });
}

/**
 * The audits of an infrastructure-fault file: `check` audits a scenario's submissions on
 * the pipeline's own database and asserts it clean and crash-free; after the file, the
 * table of every scenario is printed under `title` and the load's mail users deleted.
 */
export function scenarioChecks(title: string) {
  const reports: AuditReport[] = [];
  const mailUsers: string[] = [];
  afterAll(async () => {
    console.log(`\n${title}:\n${formatReports(reports)}\n`);
    await deleteMailUsers(mailUsers);
  });
  return async (
    ctx: { pipeline: Pipeline; pool: pg.Pool; dlq: DeadLetterWatch },
    scenario: string,
    marker: string,
    submissions: readonly Submission[],
  ): Promise<void> => {
    mailUsers.push(...submissions.map((s) => s.requester));
    const report = await audit({
      scenario,
      pool: ctx.pool,
      submissions,
      analyticsSchema: ctx.pipeline.analyticsSchema,
      dlq: ctx.dlq,
      marker,
      timeoutMs: 180_000,
    });
    reports.push(report);
    expectClean(report);
    expectNoCrash(ctx.pipeline);
  };
}
