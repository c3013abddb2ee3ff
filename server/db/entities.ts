import { Agent } from '../modules/agents/index.js';
import { ApiKey } from '../modules/auth/index.js';
import { MemoryHistory } from '../modules/memory/index.js';
import { MemoryJob } from '../modules/consolidation/index.js';
import { CoreMemoryBlock } from '../modules/memory/index.js';
import { MemoryItem } from '../modules/memory/index.js';
import { VaultAccess } from '../modules/memory/index.js';
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
