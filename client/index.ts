import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { EventSource } from 'eventsource';
import type { AppRouter } from '../server/trpc/routers/_app.js';
import { transformer } from '../shared/transformer.js';

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export { TRPCClientError } from '@trpc/client';

type Credential = string | (() => string | null | undefined | Promise<string | null | undefined>);

export interface MirixClientOptions {
  /** The server's base URL, e.g. `http://localhost:8000` (the client adds `/trpc`). */
  url: string;
  /** A JWT from `auth.login`, or a function returning the current one. */
  token?: Credential;
  /** An API key from `apiKeys.create` (used when no token is given). */
  apiKey?: Credential;
  /** Extra headers for every request (e.g. `x-request-id`). */
  headers?: Record<string, string>;
  /** The fetch for queries and mutations (default: the global one), e.g. to instrument requests. */
  fetch?: typeof fetch;
}

export type MirixClient = TRPCClient<AppRouter>;

async function resolve(credential: Credential | undefined): Promise<string | null> {
  if (credential === undefined) return null;
  return (typeof credential === 'function' ? await credential() : credential) ?? null;
}

/**
 * A typed client for the MIRIX-TS API. Queries and mutations are batched over HTTP with an
 * Authorization header; subscriptions stream over Server-Sent Events (an EventSource that works on
 * Node 20), authenticated through connectionParams.
 */
export function createMirixClient(opts: MirixClientOptions): MirixClient {
  const base = opts.url.replace(/\/+$/, '');
  const trpcUrl = `${base}/trpc`;
  const headers = async (): Promise<Record<string, string>> => {
    const credential = (await resolve(opts.token)) ?? (await resolve(opts.apiKey));
    return { ...opts.headers, ...(credential ? { authorization: `Bearer ${credential}` } : {}) };
  };

  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: trpcUrl,
          transformer,
          EventSource,
          // Subscriptions authenticate through tRPC's connectionParams, as browsers' EventSource
          // cannot send headers; the server reads `token` from them.
          connectionParams: async () => {
            const credential = (await resolve(opts.token)) ?? (await resolve(opts.apiKey));
            return credential ? { token: credential } : null;
          },
          eventSourceOptions: () => ({
            fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...opts.headers } }),
          }),
        }),
        false: httpBatchLink({
          url: trpcUrl,
          transformer,
          headers,
          ...(opts.fetch && { fetch: opts.fetch }),
        }),
      }),
    ],
  });
}
