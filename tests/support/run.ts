import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a project command (e.g. `npm run db:migrate`) with extra environment variables. */
export async function runCommand(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, {
      env: { ...process.env, ...env },
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 16 * 1024 * 1024,
      ...(opts.cwd && { cwd: opts.cwd }),
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * Starts a project entry point the way `npm start` and `npm run worker` do (`node --import tsx`): one
 * process, so a signal reaches our own handlers. The tsx CLI instead relays signals to a child and
 * SIGKILLs it (exit 143) when the child has not acknowledged within about 60 ms, which a busy
 * machine misses.
 */
export function startEntry(script: string, env: Record<string, string>) {
  return startProcess(process.execPath, ['--import', 'tsx', script], env);
}

/** Starts a long-running project process, collecting its output. */
export function startProcess(cmd: string, args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}
