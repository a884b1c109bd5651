// The agent console in a real headless Chromium (Debian's package, driven by
// playwright-core) against intake-api, ticket-store, categorizer and router running
// in-process on the real Kafka and Postgres: sign in, create a ticket in the form and
// see the suggestion while typing, find it by full-text search, change its status and
// see the change. Screenshots of the main screens go to test-output/console/.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { IntakeConfigSchema, start as startIntake } from '@mailroom/intake-api';
import { testLogger, unique } from '../support/env.js';
import { startConsumers } from '../support/in-process.js';
import { ensureConsoleBuilt } from './build-console.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', '..', 'test-output', 'console');
const key = `${unique('console-key')}-0123456789`;
const stops: (() => Promise<void>)[] = [];
let base = '';
let profile = '';
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run bash deploy/local/install-chromium.sh`);
  }
  await ensureConsoleBuilt();
  await mkdir(SHOTS, { recursive: true });

  const logger = testLogger('console');
  const id = unique('console');
  stops.push(...(await startConsumers(id, ['ticket-store', 'categorizer', 'router'], logger)));
  const intake = await startIntake(
    loadConfig(IntakeConfigSchema, {
      ...process.env,
      PORT: '0',
      BOOTSTRAP_API_KEYS: `${id}:agent+intake:${key}`,
    }),
    { logger },
  );
  stops.unshift(intake.stop);
  base = `http://127.0.0.1:${intake.port}`;

  profile = await mkdtemp(join(tmpdir(), 'console-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1100, height: 760 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
}, 180_000);

afterAll(async () => {
  await context?.close();
  for (const stop of stops) await stop();
  if (profile) await rm(profile, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

describe('the agent console in Chromium', () => {
  it('signs in, creates a ticket with a suggestion, finds it, changes its status', async () => {
    onTestFailed(async () => {
      await shot('failure');
    });
    // A wrong key: the API's refusal is shown and nothing is kept.
    await page.goto(`${base}/`);
    await page.getByLabel('Agent API key').fill('not-a-valid-key-0000000000');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Sign-in refused: .+/);
    await shot('sign-in-refused');

    await page.getByLabel('Agent API key').fill(key);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Tickets' }).waitFor();
    // A string: the test is typed for Node, the expression runs in the page.
    expect(await page.evaluate("sessionStorage.getItem('mailroom.console.apiKey')")).toBe(key);

    // The new-ticket form: the suggestion appears while typing.
    const word = unique('zeppelin').replace('-', '');
    const title = `Invoice ${word} was charged twice`;
    await page.getByRole('link', { name: 'New ticket' }).click();
    await page.getByLabel('Title').fill(title);
    await page
      .getByLabel('Description')
      .fill('My credit card was billed twice for the March invoice, please refund one payment.');
    await page.getByLabel('Requester email').fill('alice@example.test');
    await page.getByLabel('Requester name').fill('Alice');
    const suggestion = page.getByRole('region', { name: 'Suggested categorization' });
    await suggestion.getByText('Suggested:').waitFor();
    const suggested = await suggestion.locator('.badge.department').textContent();
    expect(suggested).toMatch(/\w/);
    // Overridden as a hint: the agent knows this one is urgent.
    await page.getByLabel('Priority').selectOption('critical');
    await shot('new-ticket');
    const submitted = page.waitForRequest(
      (r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/tickets',
    );
    await page.getByRole('button', { name: 'Create ticket' }).click();
    expect((await submitted).postDataJSON()).toMatchObject({
      title,
      requester: { email: 'alice@example.test', name: 'Alice' },
      hints: { priority: 'critical' },
    });

    // The ticket page once it is stored, then categorized and routed as suggested.
    await page.getByRole('heading', { name: new RegExp(`#\\d+ ${title}`) }).waitFor();
    const detail = page.locator('.detail > .badges');
    await page.getByText(/routed: /).waitFor({ timeout: 30_000 });
    expect(await detail.locator('.badge.department').textContent()).toBe(suggested);
    await detail.locator('.badge.method').waitFor();

    // Found by full-text search in the queue.
    await page.getByRole('link', { name: 'Tickets', exact: true }).click();
    await page.getByLabel('Search').fill(word);
    const row = page.locator('.ticket', { hasText: title });
    await row.waitFor();
    await expect.poll(() => page.locator('.ticket').count()).toBe(1);
    await shot('queue');

    // Change the status on the ticket page; the change shows there and in the list.
    await row.getByRole('link').click();
    await page.getByRole('combobox', { name: /^Status/ }).selectOption('in_progress');
    await page
      .getByRole('textbox', { name: /^Reason/ })
      .first()
      .fill('looking into it');
    await page.getByRole('button', { name: 'Change status' }).click();
    await page.getByRole('status').getByText('Status in progress: done').waitFor();
    await detail.locator('.badge.status-in_progress').waitFor();
    await page.getByText('status: pending → in_progress').waitFor();
    await shot('ticket');
    await page.screenshot({ path: join(SHOTS, 'ticket-full.png'), fullPage: true });

    await page.keyboard.press('Escape');
    await page.getByRole('heading', { name: 'Tickets' }).waitFor();
    await page.getByLabel('Search').fill(word);
    await page
      .locator('.ticket', { hasText: title })
      .locator('.badge.status-in_progress')
      .waitFor();

    // Readable on a phone.
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('queue-phone');
  });
});
