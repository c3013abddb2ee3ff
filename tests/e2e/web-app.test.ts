/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebApp, launchChromium, openPage } from '../support/browser.js';
import { type ChatHarness, startChatHarness } from '../support/chat-harness.js';
import { finishedJob, managerRoute } from '../support/memory-managers.js';
import { Message } from '../../server/modules/messages/message.entity.js';
import { User } from '../../server/modules/users/user.entity.js';
import { signUp, startTestConsolidateWorker, startTestWorker } from '../support/server.js';

/**
 * The web app in Debian's Chromium (playwright-core) against the real server, PostgreSQL, Redis,
 * both workers and the fake OpenAI server. The README's screenshots come from here.
 */
// The README's (docs/screenshots) with `npm run screenshots`; otherwise beside the failure shots.
const SCREENSHOTS =
  process.env.MIRIX_SCREENSHOTS_DIR ?? resolve(import.meta.dirname, '../../test-results/e2e/pages');

let harness: ChatHarness;
let browser: Browser;
let workers: { close: () => Promise<void> }[] = [];
beforeAll(async () => {
  const webRoot = await buildWebApp();
  harness = await startChatHarness({}, { webRoot });
  // Chat turns queue consolidation jobs: by default the memory managers change nothing.
  harness.openai.route = managerRoute({ meta: [] });
  workers = [startTestConsolidateWorker(harness.server), startTestWorker(harness.server)];
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  for (const w of workers) await w.close();
  await harness?.close();
});

const url = () => harness.server.url;

/** A user made through the API, with an agent, signed in in a fresh browser page. */
async function signedIn(name: string, opts: { width?: number; height?: number } = {}) {
  const user = await signUp(harness.server, name);
  const agent = await user.client.agents.create.mutate({
    name: `${name}'s agent`,
    modelConfig: { provider: 'openai', model: 'gpt-test', parameters: {} },
  });
  const { page } = await openPage(browser, url(), { token: user.token, name, ...opts });
  return { ...user, agent, page };
}

async function memoryTab(page: Page, agentId: string, tab: string) {
  await page.goto(`/agents/${agentId}/memory`);
  await page.getByRole('tab', { name: tab }).click();
}

describe('the web app', () => {
  it('registers, creates an agent, and streams a chat reply in token by token', async () => {
    const { page } = await openPage(browser, url(), { name: 'register-chat' });
    await page.goto('/');
    await page.waitForURL('**/login');
    await page.getByRole('button', { name: 'Create one' }).click();
    const username = `grace${Date.now().toString(36)}`;
    await page.getByLabel('Username', { exact: true }).fill(username);
    await page.getByLabel('Email').fill(`${username}@example.com`);
    await page.getByLabel('Password').fill('correct-horse-42');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/agents');
    await page.getByText('No agents yet').waitFor();
    // Nothing but the session token is kept in the browser.
    expect(await page.evaluate(() => Object.keys(window.localStorage))).toEqual(['mirix.token']);

    const form = page.getByRole('form', { name: 'New agent' });
    await form.getByLabel('Name', { exact: true }).fill('Ada');
    await form.getByLabel('Model', { exact: true }).fill('gpt-test');
    await form.getByLabel('System prompt').fill('You are Ada, a concise assistant.');
    await form.getByRole('button', { name: 'Create agent' }).click();
    const card = page.getByRole('listitem', { name: 'Agent Ada' });
    await card.waitFor();
    await card.getByRole('link', { name: 'Chat' }).click();
    await page.getByRole('heading', { name: 'Chat with Ada' }).waitFor();

    const full = 'Hello Grace! The launch is on March 15, and I will remember that.';
    harness.openai.replies.push({
      text: full,
      chunkSize: 5,
      delayMs: 120,
      usage: { prompt: 30, completion: 14 },
    });
    await page.getByLabel('Message', { exact: true }).fill('When is the launch?');
    await page.getByLabel('Message', { exact: true }).press('Enter');
    await page.getByRole('status').filter({ hasText: 'Thinking…' }).waitFor();
    await page.getByRole('button', { name: 'Stop' }).waitFor();

    const reply = page.getByTestId('reply');
    await reply.waitFor();
    const partial = await reply.textContent();
    expect(partial!.length).toBeGreaterThan(0);
    expect(partial!.length).toBeLessThan(full.length); // it arrives in pieces
    expect(full.startsWith(partial!)).toBe(true);
    await page.getByTestId('reply').filter({ hasText: full }).waitFor();
    await page.getByRole('button', { name: 'Send' }).waitFor(); // the turn is over
    await page.getByText('No memories were used for this reply.').waitFor();
  });

  it('shows the memories used for a reply, with their type, and plain errors', async () => {
    const { client, agent, page } = await signedIn('memchat');
    await client.memory.semantic.create.mutate({
      agentId: agent.id,
      name: 'Launch date',
      summary: 'The launch is on March 15',
    });
    await client.memory.core.set.mutate({
      agentId: agent.id,
      label: 'human',
      value: 'Name: Grace. Likes tea.',
    });
    await page.goto(`/agents/${agent.id}/chat`);
    harness.openai.replies.push({ text: 'The launch is on March 15.', chunkSize: 8 });
    await page.getByLabel('Message', { exact: true }).fill('When is the launch?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('reply').filter({ hasText: 'The launch is on March 15.' }).waitFor();
    await page.getByText('1 memory used').click();
    await page.getByRole('listitem').filter({ hasText: 'Launch date' }).getByText('Semantic').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'chat.png') });
    // After a reload the reply, now from the history, still lists its memories.
    await page.reload();
    await page.getByText('1 memory used').click();
    await page.getByRole('listitem').filter({ hasText: 'Launch date' }).getByText('Semantic').waitFor();

    harness.openai.replies.push({ status: 401 });
    await page.getByLabel('Message', { exact: true }).fill('Again?');
    await page.getByRole('button', { name: 'Send' }).click();
    const error = page.getByRole('alert');
    await error.waitFor();
    expect(await error.textContent()).toMatch(
      /rejected the server's credentials \(HTTP 401\): check its API key/,
    );
  });

  it('stops a reply mid-stream: the upstream request is cancelled and the partial answer kept', async () => {
    const { client, agent, page } = await signedIn('stopper');
    await page.goto(`/agents/${agent.id}/chat`);
    const cancelledBefore = harness.openai.streamsCancelled;
    harness.openai.replies.push({ text: 'one two three four five six', chunkSize: 4, stallAfterChunks: 1 });
    await page.getByLabel('Message', { exact: true }).fill('Count slowly');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('reply').filter({ hasText: 'one' }).waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByText('(stopped)').waitFor();
    await page.getByRole('button', { name: 'Send' }).waitFor();
    await expect.poll(() => harness.openai.streamsCancelled, { timeout: 10_000 }).toBe(cancelledBefore + 1);
    await expect
      .poll(async () => (await client.messages.list.query({ agentId: agent.id })).items.at(-1)?.status, {
        timeout: 10_000,
      })
      .toBe('interrupted');
  });

  it('edits an agent’s system prompt and model, and deletes it after a confirmation', async () => {
    const { client, agent, page } = await signedIn('editor');
    await page.goto('/agents');
    const card = page.getByRole('listitem', { name: `Agent ${agent.name}` });
    await card.getByRole('button', { name: 'Edit' }).click();
    const form = card.getByRole('form', { name: `Edit ${agent.name}` });
    await form.getByLabel('System prompt').fill('You are terse.');
    await form.getByLabel('Provider').selectOption('anthropic');
    await form.getByLabel('Model', { exact: true }).fill('claude-test');
    await form.getByLabel('Model parameters (JSON)').fill('{"temperature": 0.2}');
    await form.getByRole('button', { name: 'Save' }).click();
    await card.getByText('assistant · anthropic / claude-test').waitFor();
    expect(await client.agents.get.query({ id: agent.id })).toMatchObject({
      systemPrompt: 'You are terse.',
      modelConfig: { provider: 'anthropic', model: 'claude-test', parameters: { temperature: 0.2 } },
    });

    await card.getByRole('button', { name: 'Delete' }).click();
    const confirm = card.getByRole('alertdialog', { name: `Delete ${agent.name}?` });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect((await client.agents.list.query({})).total).toBe(1); // cancelling deletes nothing
    await card.getByRole('button', { name: 'Delete' }).click();
    await confirm.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByText('No agents yet').waitFor();
    expect((await client.agents.list.query({})).total).toBe(0);
  });

  it('shows the memories a consolidation job made, without a reload', async () => {
    const { client, agent, page } = await signedIn('live');
    await memoryTab(page, agent.id, 'Semantic');
    await page.getByText('No memories of this type yet.').waitFor();

    harness.openai.route = managerRoute({
      meta: ['semantic'],
      managers: {
        semantic: [
          [
            {
              name: 'semantic_memory_insert',
              args: { items: [{ name: 'Home city', summary: 'Grace lives in Lisbon' }] },
            },
          ],
        ],
      },
    });
    try {
      const { jobId } = await client.memory.ingest.mutate({
        agentId: agent.id,
        text: 'I moved to Lisbon last year.',
      });
      await page.getByRole('listitem', { name: 'Home city' }).waitFor({ timeout: 20_000 });
      await page.getByRole('status').filter({ hasText: 'Memory managers made 1 change(s)' }).waitFor();
      expect((await finishedJob(client, agent.id, jobId)).status).toBe('completed');
    } finally {
      harness.openai.route = managerRoute({ meta: [] });
    }

    // The item's history shows the memory managers' creation of it.
    const item = page.getByRole('listitem', { name: 'Home city' });
    await item.getByRole('button', { name: 'History' }).click();
    await item.getByRole('list', { name: 'History' }).getByText('created').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'memory-explorer.png') });

    // And the activity page lists the job with its change and tokens.
    await page.getByRole('link', { name: 'Activity' }).click();
    const row = page.getByRole('table', { name: 'Recent consolidation jobs' }).getByRole('row').nth(1);
    await row.getByText('completed').waitFor();
    await row.getByText('created semantic: Home city').waitFor();
  });

  it('searches with the per-signal explain', async () => {
    const { client, agent, page } = await signedIn('search');
    await client.memory.semantic.createMany.mutate({
      agentId: agent.id,
      items: [
        { name: 'Launch date', summary: 'The product launch is on March 15' },
        { name: 'Coffee', summary: 'Grace drinks espresso every morning' },
      ],
    });
    await memoryTab(page, agent.id, 'Search');
    await page.getByLabel('Search memories').fill('product launch');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const table = page.getByRole('table', { name: 'Search results' });
    await table.waitFor();
    const first = table.getByRole('row').nth(1);
    await first.getByText('Launch date').waitFor();
    const cells = await first.getByRole('cell').allTextContents();
    // #, type, memory, fused score, vector, full text, trigram
    expect(cells[1]).toBe('semantic');
    expect(Number(cells[3])).toBeGreaterThan(0);
    expect(cells[5]).toMatch(/^#1 \(\d/); // full text ranked it first
    expect(await table.locator('caption').textContent()).toContain('fulltext');
  });

  it('masks vault values until an explicit reveal', async () => {
    const { client, agent, page } = await signedIn('vault');
    await client.memory.vault.create.mutate({
      agentId: agent.id,
      entryType: 'password',
      caption: 'Home Wi-Fi',
      sensitivity: 'high',
      secretValue: 'correct-horse-battery-staple',
    });
    await memoryTab(page, agent.id, 'Knowledge vault');
    const item = page.getByRole('listitem', { name: 'Home Wi-Fi' });
    await item.waitFor();
    expect(await item.getByLabel('Secret value').textContent()).toBe('••••••••');
    expect(await page.content()).not.toContain('correct-horse');
    await item.getByRole('button', { name: 'Reveal' }).click();
    await item.getByLabel('Secret value').filter({ hasText: 'correct-horse-battery-staple' }).waitFor();
    await item.getByRole('button', { name: 'Hide' }).click();
    expect(await item.getByLabel('Secret value').textContent()).toBe('••••••••');
    expect(await page.evaluate(() => JSON.stringify(window.localStorage))).not.toContain('correct-horse');
  });

  it('refuses a core block edit past its limit, with the error shown', async () => {
    const { client, agent, page } = await signedIn('core');
    await client.memory.core.set.mutate({ agentId: agent.id, label: 'notes', value: 'short', limit: 40 });
    await memoryTab(page, agent.id, 'Core');
    const block = page.getByRole('form', { name: 'Core block notes' });
    await block.getByText('5 / 40 characters').waitFor();
    await block.getByLabel('Core block: notes').fill('x'.repeat(50));
    await block.getByText('50 / 40 characters (10 over the limit)').waitFor();
    await block.getByRole('button', { name: 'Save notes' }).click();
    const error = block.getByRole('alert');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/notes.*40 characters.*10 too many/);
    const [notes] = (await client.memory.core.get.query({ agentId: agent.id })).filter(
      (b) => b.label === 'notes',
    );
    expect(notes!.value).toBe('short'); // nothing half-written
  });

  it('does not show one user’s agent to another', async () => {
    const alice = await signedIn('alice');
    const mallory = await signedIn('mallory');
    await mallory.page.goto('/agents');
    await mallory.page.getByRole('listitem', { name: `Agent ${mallory.agent.name}` }).waitFor();
    expect(await mallory.page.getByRole('listitem', { name: `Agent ${alice.agent.name}` }).count()).toBe(0);
    await mallory.page.goto(`/agents/${alice.agent.id}/chat`);
    expect(await mallory.page.getByRole('alert').first().textContent()).toMatch(/not found/i);
    await mallory.page.goto(`/agents/${alice.agent.id}/memory`);
    await mallory.page.getByRole('alert').first().waitFor();
    expect(await mallory.page.content()).not.toContain(alice.agent.name);
  });

  it('gives superusers the admin page: users, agents across users, the queue dashboard', async () => {
    const other = await signUp(harness.server, 'someone');
    await other.client.agents.create.mutate({ name: 'someone else’s agent' });
    const admin = await signedIn('root');
    await admin.page.goto('/agents');
    expect(await admin.page.getByRole('link', { name: 'Admin' }).count()).toBe(0); // not yet a superuser
    await harness.server.orm.em.fork().nativeUpdate(User, { id: admin.user.id }, { isSuperuser: true });
    await admin.page.goto('/admin');
    await admin.page
      .getByRole('table', { name: 'Users', exact: true })
      .getByRole('cell', { name: other.username, exact: true })
      .waitFor();
    await admin.page
      .getByRole('table', { name: 'Agents across users' })
      .getByRole('row')
      .filter({ hasText: 'someone else’s agent' })
      .getByRole('cell', { name: other.username, exact: true })
      .waitFor();
    // The dashboard link works from the browser session (the token travels as a cookie).
    await admin.page.getByRole('link', { name: 'Queue dashboard' }).click();
    await admin.page.waitForURL('**/admin/queues**');
    const queues = await admin.page.request.get('/admin/queues/api/queues');
    expect(queues.status()).toBe(200);
  });

  it('opens a long conversation at its latest messages and pages back, and pages through memories', async () => {
    const { client, agent, page } = await signedIn('long');
    const em = harness.server.orm.em.fork();
    for (let i = 0; i < 60; i++) {
      const createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, i));
      em.create(Message, {
        agent: agent.id,
        role: i % 2 ? 'assistant' : 'user',
        content: `line ${i}`,
        createdAt,
        updatedAt: createdAt,
      });
    }
    await em.flush();
    await page.goto(`/agents/${agent.id}/chat`);
    await page.getByText('line 59', { exact: true }).waitFor();
    expect(await page.getByText('line 5', { exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Show earlier messages' }).click();
    await page.getByText('line 5', { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Show earlier messages' }).count()).toBe(0);

    await client.memory.semantic.createMany.mutate({
      agentId: agent.id,
      items: Array.from({ length: 55 }, (_, i) => ({ name: `fact ${i}`, summary: `detail ${i}` })),
    });
    await memoryTab(page, agent.id, 'Semantic');
    const items = page.getByRole('tabpanel').getByRole('listitem');
    await items.first().waitFor();
    expect(await items.count()).toBe(50);
    await page.getByRole('button', { name: 'Show more' }).click();
    await expect.poll(() => items.count()).toBe(55);
  });

  it('fits a 390 px wide screen and is usable from the keyboard', async () => {
    const { agent, page } = await signedIn('narrow', { width: 390, height: 844 });
    for (const path of ['/agents', `/agents/${agent.id}/chat`, `/agents/${agent.id}/memory`]) {
      await page.goto(path);
      await page.getByRole('heading', { level: 1 }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    // Tab from the top reaches the skip link first, then the navigation.
    await page.goto('/agents');
    await page.getByRole('heading', { name: 'Agents' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    // Every form control has a label.
    const unlabelled = await page.evaluate(
      () =>
        Array.from(document.querySelectorAll('input, textarea, select')).filter(
          (el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label'),
        ).length,
    );
    expect(unlabelled).toBe(0);
  });
});
