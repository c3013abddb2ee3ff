import type { EntityManager } from '@mikro-orm/postgresql';
import type { ChangeOperation, MemoryKind } from '../../../shared/memory-events.js';
import { MemoryHistory } from './memory-history.entity.js';
import type { MemoryItem } from './memory.entity.js';
import { FIELD_COLUMNS, type FieldName, type MemoryTypeDef } from './memory.registry.js';
import type { LastModified } from './memory.types.js';
import type { VaultCipher } from './vault-cipher.js';

/**
 * The rules every write of a memory item follows, whoever writes it: the API on a user's behalf
 * (memory.service.ts) or a memory manager's job (consolidation/apply.service.ts).
 */

/** Every optional column, unset: what a new item starts from. */
const EMPTY_COLUMNS = {
  deletedAt: null,
  embedding: null,
  embeddingModel: null,
  secretCiphertext: null,
  secretKeyId: null,
  ...(Object.fromEntries(Object.keys(FIELD_COLUMNS).map((field) => [field, null])) as Record<
    FieldName,
    null
  >),
};

/** The columns history keeps of an item (its type's fields; a vault secret only as stored). */
const SNAPSHOT_FIELDS: readonly (FieldName | 'secretCiphertext' | 'secretKeyId')[] = [
  ...(Object.keys(FIELD_COLUMNS) as FieldName[]),
  'secretCiphertext',
  'secretKeyId',
];

type Sealed = Pick<MemoryItem, 'secretCiphertext' | 'secretKeyId'>;

/** Encrypts a vault secret into the item's columns, bound to the item's id. */
function seal(cipher: VaultCipher, id: string, secret: string): Sealed {
  const sealed = cipher.encrypt(secret, id);
  return { secretCiphertext: sealed.ciphertext, secretKeyId: sealed.keyId };
}

export interface NewItemOptions {
  id: string;
  agentId: string;
  userId: string;
  def: MemoryTypeDef;
  /** The type's fields, as its schema parsed them (a vault item's `secretValue` included). */
  fields: Record<string, unknown>;
  lastModified: LastModified;
  now: Date;
  cipher: VaultCipher;
}

/** A new item's row: every column set, an episode dated now unless told, a vault secret sealed. */
export function newItemRow(opts: NewItemOptions) {
  const { def, fields, now } = opts;
  const row = {
    ...EMPTY_COLUMNS,
    id: opts.id,
    createdAt: now,
    updatedAt: now,
    agent: opts.agentId,
    user: opts.userId,
    memoryType: def.type,
    lastModified: opts.lastModified,
    ...def.toColumns(fields),
  };
  if (def.type === 'episodic') row.occurredAt ??= now;
  if (def.type === 'knowledge_vault')
    Object.assign(row, seal(opts.cipher, opts.id, String(fields.secretValue)));
  return row;
}

export interface PatchOptions {
  def: MemoryTypeDef;
  patch: Record<string, unknown>;
  lastModified: LastModified;
  now: Date;
  cipher: VaultCipher;
}

/**
 * Applies a patch to a managed item: its type's columns, a new vault secret sealed, and a changed
 * text's old vector dropped (text search still finds the item until the worker writes the new one).
 * Returns whether the item needs a new embedding.
 */
export function patchItem(em: EntityManager, item: MemoryItem, opts: PatchOptions): boolean {
  em.assign(item, opts.def.toColumns(opts.patch));
  const secret = opts.patch.secretValue;
  if (opts.def.type === 'knowledge_vault' && typeof secret === 'string')
    Object.assign(item, seal(opts.cipher, item.id, secret));
  item.lastModified = opts.lastModified;
  item.updatedAt = opts.now;
  // Validity is not embedded: closing a fact keeps its vector.
  const textChanged = Object.keys(opts.patch).some((k) => k !== 'validFrom' && k !== 'validTo');
  if (!opts.def.embeddingText || !textChanged) return false;
  item.embedding = null;
  item.embeddingModel = null;
  return true;
}

/** The item as history keeps it. */
export function snapshotOf(item: MemoryItem): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of SNAPSHOT_FIELDS) if (item[f] !== null && item[f] !== undefined) out[f] = item[f];
  return out;
}

export interface HistoryEntry {
  agentId: string;
  userId: string;
  itemId: string;
  memoryType: MemoryKind;
  operation: ChangeOperation;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  /** Who made the change: `user`, or a memory manager (`semantic_memory_manager`, ...). */
  actor: string;
  jobId?: string | null;
}

/** One history row for a change, in the caller's unit of work. */
export function recordHistory(em: EntityManager, entry: HistoryEntry): void {
  em.create(MemoryHistory, {
    agent: entry.agentId,
    user: entry.userId,
    itemId: entry.itemId,
    memoryType: entry.memoryType,
    operation: entry.operation,
    before: entry.before,
    after: entry.after,
    job: entry.jobId ?? null,
    actor: entry.actor,
  });
}
