import type { IncomingMessage } from 'node:http';

/**
 * Phases of a request worth telling apart in its `Server-Timing` header, next to `app` (the whole
 * request): `llm` is the time spent waiting on the LLM provider, so the server's own share is
 * `app - llm`. Browsers' devtools show them; bench:chat reads them.
 */
const TIMINGS = Symbol('serverTimings');
type Timed = IncomingMessage & { [TIMINGS]?: Map<string, number> };

export function recordTiming(req: IncomingMessage, name: string, ms: number): void {
  const timings = ((req as Timed)[TIMINGS] ??= new Map());
  timings.set(name, (timings.get(name) ?? 0) + ms);
}

/** The header value: `app;dur=12.34` and any recorded phases. */
export function serverTimingHeader(req: IncomingMessage, appMs: number): string {
  const phases = [...((req as Timed)[TIMINGS] ?? [])].map(([name, ms]) => `${name};dur=${ms.toFixed(2)}`);
  return [`app;dur=${appMs.toFixed(2)}`, ...phases].join(', ');
}
