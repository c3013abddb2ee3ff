import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from './user.entity.js';

/** Every account, newest first (the router restricts this to superusers). */
export async function listUsers(
  em: EntityManager,
  input: { skip: number; limit: number },
): Promise<{ items: User[]; total: number }> {
  const [items, total] = await em.findAndCount(
    User,
    {},
    { orderBy: { createdAt: 'desc', id: 'desc' }, offset: input.skip, limit: input.limit },
  );
  return { items, total };
}
