import { z } from 'zod';

export const ZUsername = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9_.-]{2,63}$/, '3-64 characters: letters, digits, "_", "." or "-"');

export const ZRegisterRequest = z.object({
  username: ZUsername,
  email: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.email('must be a valid email address'))
    .pipe(z.string().max(320)),
  password: z.string().min(8, 'must be at least 8 characters').max(256, 'must be at most 256 characters'),
  fullName: z.string().trim().min(1).max(200).optional(),
});
export type TRegisterRequest = z.infer<typeof ZRegisterRequest>;

export const ZLoginRequest = z.object({
  /** A username or an email address. */
  username: z.string().trim().toLowerCase().min(1, 'required').max(320),
  password: z.string().min(1, 'required').max(256),
});
export type TLoginRequest = z.infer<typeof ZLoginRequest>;

export const ZTokenResponse = z.object({
  accessToken: z.string(),
  tokenType: z.literal('bearer'),
  expiresIn: z.number().int(),
});

export const ZUserResponse = z.object({
  id: z.uuid(),
  username: z.string(),
  email: z.string(),
  fullName: z.string().nullable(),
  isActive: z.boolean(),
  isSuperuser: z.boolean(),
  createdAt: z.date(),
});
export type TUserResponse = z.infer<typeof ZUserResponse>;

export const ZCreateApiKeyRequest = z.object({
  name: z.string().trim().min(1, 'required').max(100),
  /** Optional lifetime; without it the key lives until revoked. */
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export type TCreateApiKeyRequest = z.infer<typeof ZCreateApiKeyRequest>;

export const ZApiKeyResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  createdAt: z.date(),
  lastUsedAt: z.date().nullable(),
  expiresAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
});
export type TApiKeyResponse = z.infer<typeof ZApiKeyResponse>;

/** Returned once, at creation: the only time the secret key is ever shown. */
export const ZCreatedApiKeyResponse = ZApiKeyResponse.extend({ key: z.string() });

export const ZApiKeyIdRequest = z.object({ id: z.uuid() });
