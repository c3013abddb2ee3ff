import { Agent } from '../modules/agents/index.js';
import { ApiKey } from '../modules/auth/index.js';
import { MemoryHistory, CoreMemoryBlock, MemoryItem, VaultAccess } from '../modules/memory/index.js';
import { MemoryJob } from '../modules/consolidation/index.js';
import { Message } from '../modules/messages/index.js';
import { User } from '../modules/users/index.js';

/**
 * Every entity, listed rather than globbed: the same list then works under tsx, vitest and
 * compiled JavaScript, with no runtime import of `.ts` files by path.
 */
export const entities = [
  User,
  ApiKey,
  Agent,
  Message,
  MemoryItem,
  CoreMemoryBlock,
  VaultAccess,
  MemoryJob,
  MemoryHistory,
];
