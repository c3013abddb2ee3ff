import { Agent } from '../modules/agents/agent.entity.js';
import { ApiKey } from '../modules/auth/api-key.entity.js';
import { MemoryHistory } from '../modules/memory/memory-history.entity.js';
import { MemoryJob } from '../modules/consolidation/memory-job.entity.js';
import { CoreMemoryBlock } from '../modules/memory/core-block.entity.js';
import { MemoryItem } from '../modules/memory/memory.entity.js';
import { VaultAccess } from '../modules/memory/vault-access.entity.js';
import { Message } from '../modules/messages/message.entity.js';
import { User } from '../modules/users/user.entity.js';

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
