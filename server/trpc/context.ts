import type { EntityManager } from '@mikro-orm/postgresql';
import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
// pino-http's declarations add req.log and req.id to Node's IncomingMessage.
import type {} from 'pino-http';
import type { AppServices } from '../services.js';
import type { User } from '../modules/users/index.js';
import { recordTiming } from '../server-timing.js';
import { credentialOf } from '../modules/auth/index.js';

export interface InnerContextOptions {
  /**
   * An EntityManager. Over HTTP it is the ORM's global one, which refuses to be used directly
   * (allowGlobalContext: false): every procedure call works in a fork of its own (init.ts).
   */
  em: EntityManager;
  services: AppServices;
  log: Logger;
  /** The raw bearer credential (JWT or API key), if the caller sent one. */
  credential?: string | null;
  /** Pre-authenticated user (tests and in-process callers). */
  user?: User | null;
  ip?: string;
  requestId?: string;
  /** Records a phase of the request for its Server-Timing header. */
  timing?: (name: string, ms: number) => void;
}

/** The context without any transport: what tests and in-process callers build. */
export function createContextInner(opts: InnerContextOptions) {
  return {
    em: opts.em,
    services: opts.services,
    log: opts.log,
    credential: opts.credential ?? null,
    user: opts.user ?? null,
    ip: opts.ip ?? 'unknown',
    requestId: opts.requestId ?? null,
    timing: opts.timing ?? (() => {}),
  };
}
export type Context = ReturnType<typeof createContextInner>;

/**
 * The context of an HTTP request: its bearer credential (or, for SSE clients that cannot send
 * headers, the `token` connection param), client address and request id.
 */
export function contextOfRequest(
  services: AppServices,
  req: IncomingMessage,
  connectionParams?: Record<string, unknown> | null,
): Context {
  const fromParams = connectionParams?.token;
  return createContextInner({
    em: services.orm.em,
    services,
    log: req.log,
    credential: credentialOf(req.headers) ?? (typeof fromParams === 'string' ? fromParams : null),
    ip: services.clientAddress(req),
    requestId: req.id as string,
    timing: (name, ms) => recordTiming(req, name, ms),
  });
}

/** The HTTP handler's context (each procedure call then gets its own fork: see init.ts). */
export function createContextFactory(services: AppServices) {
  return ({ req, info }: CreateHTTPContextOptions): Context =>
    contextOfRequest(services, req, info.connectionParams);
}
