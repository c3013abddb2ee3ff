import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { TRPCClientError } from '@trpc/client';
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { AppRouter } from '../../client/index.js';
import { App } from './App.js';
import { readToken, SessionProvider } from './session.js';
import { createClient, TRPCProvider } from './trpc.js';
import './styles.css';

/** A rejected or expired token: back to the sign-in page. */
type ClientError = TRPCClientError<AppRouter>;
const isClientError = (err: unknown): err is ClientError => err instanceof TRPCClientError;
const isUnauthorized = (err: unknown) => isClientError(err) && err.data?.code === 'UNAUTHORIZED';

function Root() {
  const [trpcClient] = useState(() => createClient(readToken));
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 5_000,
            retry: (count, err) => !(isClientError(err) && (err.data?.httpStatus ?? 500) < 500) && count < 2,
          },
        },
        queryCache: new QueryCache({
          onError: (err) => {
            if (isUnauthorized(err) && readToken()) window.dispatchEvent(new Event('mirix:signed-out'));
          },
        }),
        mutationCache: new MutationCache(),
      }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <SessionProvider onChange={() => queryClient.clear()}>
          <App />
        </SessionProvider>
      </TRPCProvider>
    </QueryClientProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
