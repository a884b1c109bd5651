import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sharedDataDir } from '../../../test/support/shared-data.js';

// The bin as a user runs it: a fresh node process, TypeScript loaded by tsx, no build.

const BIN = fileURLToPath(new URL('../bin/mailroom.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MODEL = fileURLToPath(
  new URL('../../../libs/classifier/models/tickets-queue.model.gz', import.meta.url),
);

function run(
  args: string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('mailroom bin', () => {
  it('inspects a sisimai bounce as automated', async () => {
    const file = `${sharedDataDir()}/mail/bounces/sisimai/automated/lhost-amavis-01.eml`;
    const { code, stdout } = await run(['mail', 'inspect', file]);
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out).toHaveProperty('messageId');
    expect(out).toHaveProperty('threadHints');
    expect(out.automated).toBe(true);
  });

  it('inspects a mikel-mail message', async () => {
    const file = `${sharedDataDir()}/mail/mime/mikel-mail/plain_emails/basic_email.eml`;
    const { code, stdout } = await run(['mail', 'inspect', file]);
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    for (const key of ['ok', 'subject', 'from', 'automated', 'replyText', 'attachments'])
      expect(out).toHaveProperty(key);
    expect(out.automated).toBe(false);
  });

  it('predicts from stdin with the shipped model', async () => {
    const { code, stdout } = await run(
      ['classify', 'predict', '--model', MODEL],
      'My credit card was charged twice for the last invoice, please refund me.',
    );
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { label: string; confidence: number; abstained: boolean };
    expect(out.label).toBe('Billing and Payments');
    expect(out.confidence).toBeGreaterThan(0);
    expect(typeof out.abstained).toBe('boolean');
  });

  it('prints help with exit 0, and exits 2 on an unknown command or a missing file', async () => {
    const help = await run(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/mail inspect/);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['mail', 'inspect', '/nonexistent.eml'])).code).toBe(1);
    expect((await run(['classify', 'predict'])).code).toBe(2);
  });
});
