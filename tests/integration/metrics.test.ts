import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatHarness, startChatHarness } from '../support/chat-harness.js';
import { WorkerMetrics } from '../../workers/metrics.js';
import { finishedJob, managerRoute } from '../support/memory-managers.js';
import { expectTRPCError, signUp, startTestConsolidateWorker } from '../support/server.js';

let harness: ChatHarness;
beforeAll(async () => {
  harness = await startChatHarness();
});
afterAll(async () => {
  await harness.close();
});

const scrape = async () => {
  const res = await fetch(`${harness.server.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
};

/** The value of one series in the Prometheus text format (labels in the order prom-client writes them). */
const value = (body: string, series: string) => {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('/metrics', () => {
  it('exposes procedure latency and errors, HTTP requests, queue depth, LLM tokens and process metrics', async () => {
    const { client } = await signUp(harness.server, 'metrics');
    const agent = await client.agents.create.mutate({
      name: 'measured',
      modelConfig: { provider: 'openai', model: 'gpt-test', parameters: {} },
    });
    await expectTRPCError(
      client.agents.get.query({ id: '0190a000-0000-7000-8000-000000000000' }),
      'NOT_FOUND',
    );
    harness.openai.replies.push({ text: 'Counted.', usage: { prompt: 42, completion: 7 } });
    await client.chat.send.mutate({ agentId: agent.id, message: 'count my tokens' });

    const body = await scrape();
    expect(
      value(
        body,
        'mirix_trpc_procedure_duration_seconds_count{procedure="agents.create",type="mutation",code="OK"}',
      ),
    ).toBe(1);
    expect(
      value(
        body,
        'mirix_trpc_procedure_duration_seconds_count{procedure="agents.get",type="query",code="NOT_FOUND"}',
      ),
    ).toBe(1);
    expect(value(body, 'mirix_trpc_errors_total{procedure="agents.get",code="NOT_FOUND"}')).toBe(1);
    expect(value(body, 'mirix_llm_tokens_total{provider="openai",kind="prompt"}')).toBe(42);
    expect(value(body, 'mirix_llm_tokens_total{provider="openai",kind="completion"}')).toBe(7);
    // The chat turn queued one consolidation job (no worker runs here; it reaches Redis just after the answer).
    await expect
      .poll(async () => value(await scrape(), 'mirix_queue_jobs{queue="consolidate",state="waiting"}'))
      .toBe(1);
    expect(value(body, 'mirix_queue_jobs{queue="embed",state="active"}')).toBe(0);
    expect(
      value(body, 'mirix_http_request_duration_seconds_count{method="POST",route="/trpc",status="200"}'),
    ).toBeGreaterThanOrEqual(3);
    expect(body).toMatch(/^mirix_process_cpu_seconds_total \d/m);
    expect(body).toMatch(/^mirix_nodejs_eventloop_lag_seconds \d/m);
  });

  it('counts REST calls by procedure, under one bounded route label', async () => {
    const { token } = await signUp(harness.server, 'restmetrics');
    const rest = (method: string, path: string, body?: unknown) =>
      fetch(`${harness.server.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const before =
      value(
        await scrape(),
        'mirix_trpc_procedure_duration_seconds_count{procedure="agents.list",type="query",code="OK"}',
      ) ?? 0;
    expect((await rest('GET', '/agents')).status).toBe(200);
    expect((await rest('GET', '/agents/0190a000-0000-7000-8000-000000000000')).status).toBe(404);
    const body = await scrape();
    expect(
      value(
        body,
        'mirix_trpc_procedure_duration_seconds_count{procedure="agents.list",type="query",code="OK"}',
      ),
    ).toBe(before + 1);
    expect(
      value(body, 'mirix_http_request_duration_seconds_count{method="GET",route="/api/v1",status="404"}'),
    ).toBe(1);
    expect(body).not.toContain('0190a000-0000-7000-8000-000000000000');
  });

  it('labels HTTP routes without ids or query strings', async () => {
    await fetch(`${harness.server.url}/no/such/route/0190a000-0000-7000-8000-000000000000?token=secret`);
    const body = await scrape();
    expect(
      value(body, 'mirix_http_request_duration_seconds_count{method="GET",route="other",status="404"}'),
    ).toBe(1);
    expect(body).not.toContain('0190a000-0000-7000-8000-000000000000');
    expect(body).not.toContain('secret');
  });
});

describe('worker metrics', () => {
  // A server of its own: no jobs queued by the tests above.
  let own: ChatHarness;
  beforeAll(async () => {
    own = await startChatHarness();
  });
  afterAll(async () => {
    await own.close();
  });

  it('times jobs per queue and counts the memory managers’ tokens per provider', async () => {
    const harness = own;
    const metrics = new WorkerMetrics();
    const worker = startTestConsolidateWorker(harness.server, { metrics });
    const served = await metrics.serve(0, '127.0.0.1');
    try {
      const { client } = await signUp(harness.server, 'workermetrics');
      const agent = await client.agents.create.mutate({
        name: 'measured',
        modelConfig: { provider: 'openai', model: 'gpt-test', parameters: {} },
      });
      harness.openai.route = managerRoute({ meta: [] });
      const { jobId } = await client.memory.ingest.mutate({ agentId: agent.id, text: 'nothing to keep' });
      const job = await finishedJob(client, agent.id, jobId);
      expect(job.status).toBe('completed');
      // The worker's 'completed' listener runs after the job row is written: poll the endpoint.
      const scrapeWorker = async () => (await fetch(`http://127.0.0.1:${served.port}/metrics`)).text();
      await expect
        .poll(async () =>
          value(
            await scrapeWorker(),
            'mirix_job_duration_seconds_count{queue="consolidate",status="completed"}',
          ),
        )
        .toBe(1);
      const body = await scrapeWorker();
      expect(value(body, 'mirix_llm_tokens_total{provider="openai",kind="prompt"}')).toBe(
        job.usage.promptTokens,
      );
      expect(job.usage.promptTokens).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${served.port}/other`)).status).toBe(404);
    } finally {
      harness.openai.route = undefined;
      await served.close();
      await worker.close();
    }
  });
});
