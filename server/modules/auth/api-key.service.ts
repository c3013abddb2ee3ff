import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../../errors.js';
import type { User } from '../users/index.js';
import { ApiKey } from './api-key.entity.js';
import { generateApiKey } from './api-keys.js';
import type { TApiKeyResponse, TCreateApiKeyRequest } from './auth.schema.js';

const DAY_MS = 86_400_000;

export function toApiKeyResponse(key: ApiKey): TApiKeyResponse {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    expiresAt: key.expiresAt,
    revokedAt: key.revokedAt,
  };
}

/** Creates a key; the returned `key` is the only copy of the secret that will ever exist. */
export async function createApiKey(
  em: EntityManager,
  actor: User,
  input: TCreateApiKeyRequest,
): Promise<TApiKeyResponse & { key: string }> {
  const generated = generateApiKey();
  const apiKey = em.create(ApiKey, {
    owner: actor,
    name: input.name,
    prefix: generated.prefix,
    hash: generated.hash,
    expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * DAY_MS) : null,
  });
  await em.flush();
  return { ...toApiKeyResponse(apiKey), key: generated.key };
}

export async function listApiKeys(em: EntityManager, actor: User): Promise<ApiKey[]> {
  return em.find(ApiKey, { owner: actor }, { orderBy: { createdAt: 'desc', id: 'desc' } });
}

/** Revokes a key of the actor's. Revoking an already revoked key is a no-op. */
export async function revokeApiKey(em: EntityManager, actor: User, id: string): Promise<ApiKey> {
  const apiKey = await em.findOne(ApiKey, { id, owner: actor });
  if (!apiKey) throw notFound('API key');
  apiKey.revokedAt ??= new Date();
  await em.flush();
  return apiKey;
}
