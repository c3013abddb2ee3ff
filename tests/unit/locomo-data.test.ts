import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLocomo, parseLocomoDate } from '../../bench/locomo-data.js';

describe('LOCOMO data', () => {
  it('reads a folder of conversations, and one file holding an array of them (locomo10.json)', () => {
    const one = JSON.parse(readFileSync('tests/fixtures/locomo-mini/mini.json', 'utf8')) as Record<
      string,
      unknown
    >;
    const folder = loadLocomo('tests/fixtures/locomo-mini');
    expect(folder.map((c) => [c.name, c.sessions.length, c.questions.length])).toEqual([['mini', 2, 5]]);
    const file = join(mkdtempSync(join(tmpdir(), 'locomo-')), 'locomo10.json');
    writeFileSync(
      file,
      JSON.stringify([
        { ...one, sample_id: 'conv-1' },
        { ...one, sample_id: 'conv-2' },
      ]),
    );
    const all = loadLocomo(file);
    expect(all.map((c) => c.name)).toEqual(['conv-1', 'conv-2']);
    expect(all[1]!.sessions[0]!.date).toEqual(folder[0]!.sessions[0]!.date);
  });

  it('reads session dates as LOCOMO writes them', () => {
    expect(parseLocomoDate('1:56 pm on 8 May, 2023').toISOString()).toBe('2023-05-08T13:56:00.000Z');
    expect(() => parseLocomoDate('yesterday')).toThrow(/unreadable session date/);
  });
});
