import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { runCommand } from '../support/run.js';

interface Result {
  fake: boolean;
  rows: { category: string; questions: number; accuracy: number }[];
  cost: { per: string; n: number; 'LLM calls': number; tokens: number; 'with warnings or failed': number }[];
  questions: { category: number; answer: string; label: string }[];
}

describe('npm run bench:locomo (CI-sized, on the loopback fake LLM)', () => {
  it('ingests every session through the memory managers, asks every question through chat, and grades each with the judge', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mirix-locomo-')), 'locomo.json');
    const run = await runCommand(
      'node_modules/.bin/tsx',
      [
        'bench/locomo.bench.ts',
        '--data',
        'tests/fixtures/locomo-mini',
        '--fake',
        '--out',
        out,
        '--db',
        `${inject('databasePrefix')}_locomo_${randomBytes(3).toString('hex')}`,
      ],
      { DATABASE_URL: inject('databaseAdminUrl'), REDIS_URL: inject('redisUrl') },
      { timeoutMs: 240_000 },
    );
    expect(run.stderr + run.stdout).toMatch(/1 conversations, 2 sessions, 5 questions \(loopback fake LLM/);
    expect(run.code).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as Result;
    expect(result.fake).toBe(true);
    expect(result.rows.find((r) => r.category === 'all')).toMatchObject({ questions: 5 });
    expect(result.rows.map((r) => r.questions)).toEqual([1, 1, 1, 2, 5]);
    const session = result.cost.find((c) => c.per === 'ingested session')!;
    expect(session).toMatchObject({ n: 2, 'with warnings or failed': 0 });
    expect(session['LLM calls']).toBeGreaterThanOrEqual(1);
    expect(session.tokens).toBeGreaterThan(0);
    // The fake answers with the memory of its prompt closest to the question: answers that quote
    // a memory at its session's date went through ingest, the memory managers, retrieval and chat.
    expect(result.questions.every((q) => q.label === 'CORRECT' || q.label === 'WRONG')).toBe(true);
    expect(result.questions.every((q) => /^From memory: \[2024-0[34]-\d\d \d\d:\d\d\]/.test(q.answer))).toBe(
      true,
    );
  }, 300_000);
});
