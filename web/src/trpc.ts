import { createTRPCContext } from '@trpc/tanstack-react-query';
import { createMirixClient, type AppRouter, type RouterOutputs } from '../../client/index.js';

export type { RouterOutputs };
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** The project's typed client, on this page's origin, with the session's token. */
export function createClient(token: () => string | null) {
  return createMirixClient({ url: window.location.origin, token });
}
