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
} from '../../modules/auth/auth.schema.js';
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  toApiKeyResponse,
} from '../../modules/auth/api-key.service.js';
import { login, register, toUserResponse } from '../../modules/auth/auth.service.js';
import { authedProcedure, publicProcedure, router } from '../init.js';

export const authRouter = router({
  register: publicProcedure
    .input(ZRegisterRequest)
    .output(ZUserResponse)
    .mutation(async ({ ctx, input }) => toUserResponse(await register(ctx.em, input))),

  login: publicProcedure
    .input(ZLoginRequest)
    .output(ZTokenResponse)
    .mutation(({ ctx, input }) =>
      login(ctx.em, { tokens: ctx.services.tokens, limiter: ctx.services.loginLimiter, ip: ctx.ip }, input),
    ),

  me: authedProcedure.output(ZUserResponse).query(({ ctx }) => toUserResponse(ctx.user)),
});

export const apiKeysRouter = router({
  /** The response's `key` is shown this once; only its hash is stored. */
  create: authedProcedure
    .input(ZCreateApiKeyRequest)
    .output(ZCreatedApiKeyResponse)
    .mutation(({ ctx, input }) => createApiKey(ctx.em, ctx.user, input)),

  list: authedProcedure
    .output(z.array(ZApiKeyResponse))
    .query(async ({ ctx }) => (await listApiKeys(ctx.em, ctx.user)).map(toApiKeyResponse)),

  revoke: authedProcedure
    .input(ZApiKeyIdRequest)
    .output(ZApiKeyResponse)
    .mutation(async ({ ctx, input }) => toApiKeyResponse(await revokeApiKey(ctx.em, ctx.user, input.id))),
});
