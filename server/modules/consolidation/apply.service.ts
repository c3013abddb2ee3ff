import { type EntityManager, LockMode } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import type { ChangeOperation, MemoryKind, TMemoryChange } from '../../../shared/memory-events.js';
import { CoreMemoryBlock, DEFAULT_CORE_BLOCK_LIMIT } from '../memory/core-block.entity.js';
import { MemoryItem } from '../memory/memory.entity.js';
import { MEMORY_DEFS } from '../memory/memory.registry.js';
import type { LastModified, MemoryType } from '../memory/memory.types.js';
import type { VaultCipher } from '../memory/vault-cipher.js';
import { MemoryHistory } from './memory-history.entity.js';
import { MemoryJob } from './memory-job.entity.js';
import { memoryTitle } from '../../../shared/memory-title.js';

/**
 * A change a memory manager decided on. Managers only stage changes (validated as they are made);
 * a job's changes are applied together, in one transaction, when all its managers are done.
 * Fields use the memory registry's names and have passed its schemas.
 */
export type StagedChange =
  | { kind: 'insert'; type: MemoryType; fields: Record<string, unknown>; actor: string }
  | {
      kind: 'update';
      type: MemoryType;
      id: string;
      patch: Record<string, unknown>;
      operation: 'updated' | 'merged';
      actor: string;
    }
  | { kind: 'delete'; type: MemoryType; id: string; actor: string }
  | { kind: 'core'; label: string; op: 'append' | 'rewrite'; text: string; actor: string };

export interface JobUsage {
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface AppliedJob {
  changes: TMemoryChange[];
  /** Items whose text changed: they need a new embedding. */
  toEmbed: { id: string; updatedAt: Date }[];
  /** The job had already been applied (a retry after a crash between commit and acknowledgement). */
  alreadyApplied: boolean;
}

const SNAPSHOT_FIELDS = [
  'occurredAt',
  'eventType',
  'actor',
  'summary',
  'details',
  'name',
  'source',
  'entryType',
  'steps',
  'title',
  'resourceType',
  'content',
  'sensitivity',
  'caption',
  'secretCiphertext',
  'secretKeyId',
] as const;

/** The item as history keeps it: its type's fields, the vault secret only as stored (encrypted). */
export function snapshotOf(item: MemoryItem): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of SNAPSHOT_FIELDS) if (item[f] !== null && item[f] !== undefined) out[f] = item[f];
  return out;
}

/** Rolls back the transaction of a job that another attempt has completed meanwhile. */
class AlreadyApplied extends Error {}

/**
 * Applies a job's staged changes, writes a history row for each, and marks the job completed with
 * its changes and usage: all in one transaction, so a job lands whole or not at all. Completing is
 * conditional on the job still being active: if another attempt completed it first, everything is
 * rolled back, so a job is never applied twice (idempotent by job id).
 */
export async function applyJob(
  em: EntityManager,
  cipher: VaultCipher,
  target: { jobId: string; agentId: string; userId: string },
  staged: StagedChange[],
  usage: JobUsage,
): Promise<AppliedJob> {
  const { jobId, agentId, userId } = target;
  try {
    return await applyInTransaction(em, cipher, jobId, agentId, userId, staged, usage);
  } catch (err) {
    if (!(err instanceof AlreadyApplied)) throw err;
    const job = await em.fork().findOneOrFail(MemoryJob, jobId);
    return { changes: job.changes ?? [], toEmbed: [], alreadyApplied: true };
  }
}

function applyInTransaction(
  em: EntityManager,
  cipher: VaultCipher,
  jobId: string,
  agentId: string,
  userId: string,
  staged: StagedChange[],
  usage: JobUsage,
): Promise<AppliedJob> {
  return em.transactional(async (tx) => {
    const changes: TMemoryChange[] = [];
    const toEmbed: { id: string; updatedAt: Date }[] = [];
    const now = new Date();
    const stamp = (operation: LastModified['operation']): LastModified => ({
      at: now.toISOString(),
      operation,
      by: 'agent',
      jobId,
    });
    const record = (
      itemId: string,
      memoryType: MemoryKind,
      operation: ChangeOperation,
      before: Record<string, unknown> | null,
      after: Record<string, unknown> | null,
      actor: string,
      label: string,
    ) => {
      tx.create(MemoryHistory, {
        agent: agentId,
        user: userId,
        itemId,
        memoryType,
        operation,
        before,
        after,
        job: jobId,
        actor,
      });
      changes.push({ itemId, memoryType, operation, label, actor });
    };

    for (const change of staged) {
      if (change.kind === 'core') {
        let block = await tx.findOne(
          CoreMemoryBlock,
          { agent: agentId, label: change.label, deletedAt: null },
          { lockMode: LockMode.PESSIMISTIC_WRITE },
        );
        const before = block ? { value: block.value } : null;
        if (!block) {
          block = tx.create(CoreMemoryBlock, {
            id: uuidv7(),
            agent: agentId,
            user: userId,
            label: change.label,
            value: '',
            limit: DEFAULT_CORE_BLOCK_LIMIT,
            lastModified: stamp('created'),
          });
        }
        const value =
          change.op === 'append'
            ? block.value
              ? `${block.value}\n${change.text}`
              : change.text
            : change.text;
        // Checked when the manager staged it; a user edit since then may have used the room up.
        if (value.length > block.limit) continue;
        block.value = value;
        block.lastModified = stamp(change.op === 'append' ? 'appended' : 'replaced');
        record(
          block.id,
          'core',
          change.op === 'append' ? 'appended' : 'rewritten',
          before,
          { value },
          change.actor,
          block.label,
        );
        continue;
      }

      const def = MEMORY_DEFS[change.type];
      if (change.kind === 'insert') {
        const id = uuidv7();
        const item = tx.create(MemoryItem, {
          id,
          agent: agentId,
          user: userId,
          memoryType: change.type,
          lastModified: stamp('created'),
          ...def.toColumns(change.fields),
        });
        if (change.type === 'episodic') item.occurredAt ??= now;
        if (change.type === 'knowledge_vault') {
          const sealed = cipher.encrypt(String(change.fields.secretValue), id);
          item.secretCiphertext = sealed.ciphertext;
          item.secretKeyId = sealed.keyId;
        }
        record(id, change.type, 'created', null, snapshotOf(item), change.actor, memoryTitle(item));
        if (def.embeddingText) toEmbed.push({ id, updatedAt: item.updatedAt });
        continue;
      }

      // An update or delete of an item that is gone by now (deleted by its user meanwhile) is skipped.
      const item = await tx.findOne(
        MemoryItem,
        { id: change.id, agent: agentId, memoryType: change.type, deletedAt: null },
        { lockMode: LockMode.PESSIMISTIC_WRITE, populate: ['content', 'secretCiphertext'] },
      );
      if (!item) continue;
      const before = snapshotOf(item);
      if (change.kind === 'delete') {
        item.deletedAt = now;
        item.lastModified = stamp('deleted');
        record(item.id, change.type, 'deleted', before, null, change.actor, memoryTitle(item));
        continue;
      }
      tx.assign(item, def.toColumns(change.patch));
      const secret = change.patch.secretValue;
      if (change.type === 'knowledge_vault' && typeof secret === 'string') {
        const sealed = cipher.encrypt(secret, item.id);
        item.secretCiphertext = sealed.ciphertext;
        item.secretKeyId = sealed.keyId;
      }
      item.lastModified = stamp('updated');
      item.updatedAt = now;
      if (def.embeddingText) {
        item.embedding = null;
        item.embeddingModel = null;
        toEmbed.push({ id: item.id, updatedAt: now });
      }
      record(
        item.id,
        change.type,
        change.operation,
        before,
        snapshotOf(item),
        change.actor,
        memoryTitle(item),
      );
    }

    const completed = await tx.nativeUpdate(
      MemoryJob,
      { id: jobId, status: 'active' },
      { status: 'completed', changes, error: null, finishedAt: new Date(), ...usage },
    );
    if (completed === 0) throw new AlreadyApplied();
    return { changes, toEmbed, alreadyApplied: false };
  });
}
