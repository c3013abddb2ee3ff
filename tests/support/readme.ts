import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** The fenced code blocks of one README section (`## title` up to the next `## `), in order. */
export function readmeBlocks(title: string): { lang: string; code: string }[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${title}\n`);
  if (start === -1) throw new Error(`README has no section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

/** The README's placeholders, replaced by this test run's server, key and checkout. */
export function fillPlaceholders(code: string, opts: { url: string; apiKey: string }): string {
  return code
    .replaceAll('http://localhost:8000', opts.url)
    .replaceAll('mrx_...', opts.apiKey)
    .replaceAll('/path/to/mirix-ts', REPO_ROOT);
}
