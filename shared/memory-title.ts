/**
 * How a memory is named in one line (a job's changes, the memories a reply used, the explorer):
 * a fact's name, a resource's title, a vault item's caption (never its secret), else its summary.
 */
export function memoryTitle(m: {
  name?: string | null;
  title?: string | null;
  caption?: string | null;
  summary?: string | null;
}): string {
  return m.name ?? m.title ?? m.caption ?? m.summary ?? '';
}
