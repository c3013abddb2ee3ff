import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { frontHandler, type NodeMiddleware } from '../../server/http-front.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function serve(common: NodeMiddleware[]): Promise<string> {
  const handler = frontHandler({
    common,
    trpc: (req, res) => res.end(`trpc ${req.url}`),
    app: (req, res) => res.end(`app ${req.url}`),
    logger: pino({ level: 'silent' }),
  });
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('frontHandler', () => {
  it('runs the common middleware, then gives /trpc calls (prefix removed) to tRPC and the rest to the app', async () => {
    const url = await serve([(_req, res, next) => (res.setHeader('x-common', 'yes'), next())]);
    const trpc = await fetch(`${url}/trpc/agents.get?input=1`);
    expect(await trpc.text()).toBe('trpc /agents.get?input=1');
    expect(trpc.headers.get('x-common')).toBe('yes');
    const other = await fetch(`${url}/trpcx/health`);
    expect(await other.text()).toBe('app /trpcx/health');
    expect(other.headers.get('x-common')).toBe('yes');
  });

  it('answers a failing common middleware with a 500 that carries no details', async () => {
    const url = await serve([(_req, _res, next) => next(new Error('secret detail at /srv/app.ts:1'))]);
    const res = await fetch(`${url}/trpc/agents.get`);
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({
      error: {
        code: 'INTERNAL_SERVER_ERROR',
        message: 'Internal server error',
        details: { request_id: null },
      },
    });
    expect(body).not.toContain('secret');
  });
});
