import { z } from 'zod';
import {
  ZApiKeyIdRequest,
  ZApiKeyResponse,
  ZCreateApiKeyRequest,
  ZCreatedApiKeyResponse,
  ZLoginRequest,
  ZRegisterRequest,
  ZTokenResponse,
  ZUserResponse,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  toApiKeyResponse,
  login,
  register,
  toUserResponse,
} from '../../modules/auth/index.js';
import { rest } from '../../rest/meta.js';
import { authedProcedure, publicProcedure, router } from '../init.js';

export const authRouter = router({
  register: publicProcedure
    .meta(
      rest('POST', '/auth/register', {
        tag: 'auth',
        summary: 'Create an account',
        status: 201,
        public: true,
      }),
    )
    .input(ZRegisterRequest)
    .output(ZUserResponse)
    .mutation(async ({ ctx, input }) => toUserResponse(await register(ctx.em, input))),

  login: publicProcedure
    .meta(
      rest('POST', '/auth/login', {
        tag: 'auth',
        summary: 'Exchange credentials for a bearer token',
        public: true,
      }),
    )
    .input(ZLoginRequest)
    .output(ZTokenResponse)
    .mutation(({ ctx, input }) =>
      login(ctx.em, { tokens: ctx.services.tokens, limiter: ctx.services.loginLimiter, ip: ctx.ip }, input),
    ),

  me: authedProcedure
    .meta(rest('GET', '/auth/me', { tag: 'auth', summary: 'The signed-in user' }))
    .output(ZUserResponse)
    .query(({ ctx }) => toUserResponse(ctx.user)),
});

export const apiKeysRouter = router({
  /** The response's `key` is shown this once; only its hash is stored. */
  create: authedProcedure
    .meta(rest('POST', '/api-keys', { tag: 'auth', summary: 'Create an API key (shown once)', status: 201 }))
    .input(ZCreateApiKeyRequest)
    .output(ZCreatedApiKeyResponse)
    .mutation(({ ctx, input }) => createApiKey(ctx.em, ctx.user, input)),

  list: authedProcedure
    .meta(
      rest('GET', '/api-keys', { tag: 'auth', summary: "The caller's API keys (never the keys themselves)" }),
    )
    .output(z.array(ZApiKeyResponse))
    .query(async ({ ctx }) => (await listApiKeys(ctx.em, ctx.user)).map(toApiKeyResponse)),

  revoke: authedProcedure
    .meta(rest('DELETE', '/api-keys/{id}', { tag: 'auth', summary: 'Revoke an API key' }))
    .input(ZApiKeyIdRequest)
    .output(ZApiKeyResponse)
    .mutation(async ({ ctx, input }) => toApiKeyResponse(await revokeApiKey(ctx.em, ctx.user, input.id))),
});
