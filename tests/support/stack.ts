import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { createMirixClient, type MirixClient } from '../../client/index.js';

/**
 * The API and the worker as their own processes (`node --import tsx`, so a signal reaches the
 * real process), as deployed: what the chaos tests kill, cut off and watch recover.
 */

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything the process printed so far. */
  log: () => string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
}

/** Starts `script` and resolves once its output matches `ready` (rejects if it exits first). */
export async function startService(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc: ServiceProcess = {
    child,
    log: () => output,
    exited,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await proc.kill();
      throw new Error(`${script} did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A private `redis-server` (no persistence: a restart comes back empty, as after a crash of a
 * cache-only Redis) that a test may kill and start again on the same port.
 */
export async function startRedisServer(port?: number): Promise<RedisServer> {
  port ??= await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (err) => (output += `\n${err.message}`));
  const deadline = Date.now() + 10_000;
  while (!/Ready to accept connections/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline || /ENOENT/.test(output))
      throw new Error(
        `redis-server did not start on port ${port} (is it installed? npm test installs it):\n${output}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface RedisServer {
  port: number;
  url: string;
  /** SIGKILL: the outage (everything in it is gone). */
  kill: () => Promise<void>;
}

export interface StackOptions {
  databaseUrl: string;
  redisUrl: string;
  /** The fake OpenAI server the chat turns and memory managers call. */
  openaiUrl: string;
  /** More environment for both processes (sweep intervals, lock times, ...). */
  env?: Record<string, string>;
}

export interface Stack {
  url: string;
  api: ServiceProcess;
  /** The running worker process, if one is started. */
  worker: ServiceProcess | null;
  startWorker: () => Promise<ServiceProcess>;
  /** A new user, logged in, with a typed client. */
  signUp: (name: string) => Promise<{ client: MirixClient; token: string }>;
  close: () => Promise<void>;
}

/** Starts the API process (and the worker when `worker` is true) on the given services. */
export async function startStack(opts: StackOptions, worker = true): Promise<Stack> {
  const env: Record<string, string> = {
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: opts.redisUrl,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: '0',
    WORKER_METRICS_PORT: '0',
    JWT_SECRET: 'chaos-'.repeat(8),
    VAULT_KEYS: `chaos:${Buffer.alloc(32, 3).toString('base64')}`,
    QUEUE_PREFIX: `chaos-${randomUUID()}`,
    OPENAI_BASE_URL: opts.openaiUrl,
    OPENAI_API_KEY: 'sk-chaos',
    LLM_MAX_RETRIES: '0',
    LLM_TIMEOUT_MS: '10000',
    RATE_LIMIT_PER_USER: '100000000',
    RATE_LIMIT_AUTH_PER_ADDRESS: '100000000',
    RATE_LIMIT_ANONYMOUS_PER_ADDRESS: '100000000',
    DB_CONNECT_TIMEOUT_MS: '1000',
    ...opts.env,
    // Readiness is read from the start-up lines, which are info.
    LOG_LEVEL: 'info',
  };
  const api = await startService('server/main.ts', env, /"port":\d+/);
  const url = `http://127.0.0.1:${/"port":(\d+)/.exec(api.log())![1]}`;
  let counter = 0;
  const stack: Stack = {
    url,
    api,
    worker: null,
    startWorker: async () => {
      stack.worker = await startService('workers/main.ts', env, /worker started/);
      return stack.worker;
    },
    signUp: async (name) => {
      const username = `${name}${++counter}${randomUUID().slice(0, 6)}`;
      const password = 'chaos-password';
      const anon = createMirixClient({ url });
      await anon.auth.register.mutate({ username, email: `${username}@chaos.local`, password });
      const { accessToken } = await anon.auth.login.mutate({ username, password });
      return { client: createMirixClient({ url, token: accessToken }), token: accessToken };
    },
    close: async () => {
      await Promise.all([api.kill('SIGTERM'), stack.worker?.kill('SIGTERM')]);
    },
  };
  if (worker) await stack.startWorker();
  return stack;
}
