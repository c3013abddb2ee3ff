import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { runCommand } from '../support/run.js';

interface Row {
  method: string;
  category: string;
  questions: number;
  'hit@1': number;
  'hit@20': number;
}

describe('npm run bench:recall', () => {
  it('stores a LOCOMO-format conversation through the API and scores every question of categories 1-4', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mirix-recall-')), 'recall.json');
    const run = await runCommand(
      'node_modules/.bin/tsx',
      [
        'bench/recall.bench.ts',
        '--data',
        'tests/fixtures/locomo-mini',
        '--out',
        out,
        '--db',
        `${inject('databasePrefix')}_recall_${randomBytes(3).toString('hex')}`,
      ],
      { DATABASE_URL: inject('databaseAdminUrl'), REDIS_URL: inject('redisUrl') },
    );
    expect(run.stderr + run.stdout).toMatch(/hit@k on 1 conversations, 9 turns, 5 questions/);
    expect(run.code).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as { rows: Row[]; latency: { n: number } };
    const all = (method: string) => result.rows.find((r) => r.method === method && r.category === 'all')!;
    for (const m of [
      'memory.search (fused)',
      'vector alone',
      'fulltext alone',
      'trigram alone',
      'BM25 baseline (this script)',
    ]) {
      expect(all(m).questions, m).toBe(5);
    }
    // Nine turns: every question's evidence is within the first 20 of the full search.
    expect(all('memory.search (fused)')['hit@20']).toBe(1);
    expect(all('memory.search (fused)')['hit@1']).toBeGreaterThanOrEqual(0.6);
    expect(result.latency.n).toBe(5);
  }, 120_000);
});
