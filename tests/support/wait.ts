/** Polls `probe` until it returns `expected` (usable in hooks, where expect.poll is not). */
export async function waitFor<T>(
  probe: () => Promise<T>,
  expected: T,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last === expected) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`waited ${timeoutMs} ms for ${String(expected)}, last value ${String(last)}`);
}
