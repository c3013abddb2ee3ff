import { pino, type DestinationStream, type Logger } from 'pino';
import type { Env } from './env.js';

/**
 * Anything that could carry a secret is censored before it is written, wherever it appears in a
 * log object: credentials, passwords, API keys and (later) knowledge-vault values.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'accessToken',
  '*.accessToken',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'key',
  '*.key',
  'secret',
  '*.secret',
];

export function createLogger(
  env: Pick<Env, 'LOG_LEVEL'>,
  destination?: DestinationStream,
  /** The `service` field of every line: which process wrote it. */
  service = 'mirix-api',
): Logger {
  return pino(
    {
      level: env.LOG_LEVEL,
      base: { service },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    // Asynchronous, buffered writes: a request never waits for the log line to reach the disk
    // (pino flushes what is buffered when the process exits).
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
