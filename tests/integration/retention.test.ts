import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerMetrics } from '../../workers/metrics.js';
import { startRetention } from '../../workers/retention.js';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const sql = <T = unknown>(q: string, params: unknown[] = []) =>
  server.orm.em.fork().getConnection().execute<T[]>(q, params);

describe('retention', () => {
  it('purges finished jobs’ inputs after N days and keeps history for N days or the last M versions, and reports it', async () => {
    const { client, user } = await signUp(server, 'retention');
    const agent = await client.agents.create.mutate({ name: 'old' });
    const input = JSON.stringify({ kind: 'text', text: 'my raw conversation', source: null });
    const job = (status: string, finishedDaysAgo: number | null) => {
      const id = uuidv7();
      return sql(
        `insert into memory_jobs (id, created_at, updated_at, agent_id, user_id, source, input, status, finished_at)
         values (?, now() - interval '60 days', now(), ?, ?, 'text', ?, ?, ${
           finishedDaysAgo === null ? 'null' : `now() - make_interval(days => ${finishedDaysAgo})`
         })`,
        [id, agent.id, user.id, input, status],
      ).then(() => id);
    };
    const oldDone = await job('completed', 40);
    const oldFailed = await job('failed', 31);
    const recent = await job('completed', 2);
    const waiting = await job('queued', null);

    const item = (await client.memory.semantic.create.mutate({ agentId: agent.id, name: 'v', summary: 'v0' }))
      .id;
    // 15 old versions and 2 recent ones of one item.
    for (let i = 0; i < 17; i++) {
      const days = i < 15 ? 400 - i : 1;
      await sql(
        `insert into memory_history (id, created_at, updated_at, agent_id, user_id, item_id, memory_type, operation, before, after, actor)
         values (?, now() - make_interval(days => ?), now(), ?, ?, ?, 'semantic', 'updated', null, ?, 'user')`,
        [uuidv7(), days, agent.id, user.id, item, JSON.stringify({ summary: `v${i}` })],
      );
    }
    const versionsBefore = (await client.memory.history.query({ agentId: agent.id, itemId: item })).length;

    const metrics = new WorkerMetrics();
    const retention = startRetention({
      orm: server.orm,
      log: pino({ level: 'silent' }),
      jobInputDays: 30,
      historyDays: 180,
      historyKeepVersions: 10,
      intervalMs: 3_600_000,
      metrics,
      batch: 4,
    });
    try {
      // 2 recent versions and 15 old ones, of which the newest 8 are still among the item's last
      // 10 versions: 7 go.
      expect(await retention.run()).toEqual({ jobInputs: 2, history: 7 });
      expect(await retention.run()).toEqual({ jobInputs: 0, history: 0 });
    } finally {
      await retention.stop();
    }
    const inputs = await sql<{ id: string; input: unknown }>(
      `select id, input from memory_jobs where agent_id = ?`,
      [agent.id],
    );
    const byId = new Map(inputs.map((r) => [r.id, r.input]));
    expect(byId.get(oldDone)).toBeNull();
    expect(byId.get(oldFailed)).toBeNull();
    expect(byId.get(recent)).not.toBeNull();
    expect(byId.get(waiting)).not.toBeNull();
    // The job itself stays visible, with its status.
    expect((await client.memory.job.query({ agentId: agent.id, jobId: oldDone })).status).toBe('completed');

    const versions = await client.memory.history.query({ agentId: agent.id, itemId: item });
    expect(versions).toHaveLength(versionsBefore - 7);
    // What stays is the newest: the 2 recent versions and the 8 newest old ones.
    expect(versions.map((v) => (v.after as { summary?: string } | null)?.summary).slice(-10)).toEqual([
      'v7',
      'v8',
      'v9',
      'v10',
      'v11',
      'v12',
      'v13',
      'v14',
      'v15',
      'v16',
    ]);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/mirix_retention_removed_total\{kind="job_inputs"\} 2/);
    expect(text).toMatch(/mirix_retention_removed_total\{kind="history"\} 7/);
    expect(text).toMatch(/mirix_retention_last_run_timestamp_seconds \d/);
  });
});
