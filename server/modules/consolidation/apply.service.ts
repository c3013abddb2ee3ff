import { type EntityManager, LockMode } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import type { ChangeOperation, MemoryKind, TMemoryChange } from '../../../shared/memory-events.js';
import {
  appendedValue,
  CoreMemoryBlock,
  DEFAULT_CORE_BLOCK_LIMIT,
  overflowOf,
  newItemRow,
  patchItem,
  recordHistory,
  snapshotOf,
  MemoryItem,
  MEMORY_DEFS,
  type LastModified,
  type MemoryType,
  type VaultCipher,
} from '../memory/index.js';
import { type JobInput, MemoryJob } from './memory-job.entity.js';
import { memoryTitle } from '../../../shared/memory-title.js';

/**
 * A change a memory manager decided on. Managers only stage changes (validated as they are made);
 * a job's changes are applied together, in one transaction, when all its managers are done.
 * Fields use the memory registry's names and have passed its schemas.
 */
export type StagedChange =
  | {
      kind: 'insert';
      type: MemoryType;
      fields: Record<string, unknown>;
      actor: string;
      /** The memory this one replaces (a superseded fact). */
      supersedesId?: string;
    }
  | {
      kind: 'update';
      type: MemoryType;
      id: string;
      patch: Record<string, unknown>;
      operation: 'updated' | 'merged' | 'superseded';
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

/** Rolls back the transaction of a job that another attempt has completed meanwhile. */
class AlreadyApplied extends Error {}

export interface ApplyJobOptions {
  cipher: VaultCipher;
  target: { jobId: string; agentId: string; userId: string };
  staged: StagedChange[];
  usage: JobUsage;
  /** What went wrong without failing the job (pipeline.ts), kept with it. */
  warnings?: string[];
}

/**
 * Applies a job's staged changes, writes a history row for each, and marks the job completed with
 * its changes and usage: all in one transaction, so a job lands whole or not at all. Completing is
 * conditional on the job still being active: if another attempt completed it first, everything is
 * rolled back, so a job is never applied twice (idempotent by job id).
 */
export async function applyJob(em: EntityManager, opts: ApplyJobOptions): Promise<AppliedJob> {
  try {
    return await em.transactional((tx) => applyInTransaction(tx, opts));
  } catch (err) {
    if (!(err instanceof AlreadyApplied)) throw err;
    const job = await em.fork().findOneOrFail(MemoryJob, opts.target.jobId);
    return { changes: job.changes ?? [], toEmbed: [], alreadyApplied: true };
  }
}

/** What the handlers of one job's changes share: its transaction, target, clock and results. */
interface Applying {
  tx: EntityManager;
  cipher: VaultCipher;
  target: ApplyJobOptions['target'];
  now: Date;
  changes: TMemoryChange[];
  toEmbed: { id: string; updatedAt: Date }[];
}

const stamp = (a: Applying, operation: LastModified['operation']): LastModified => ({
  at: a.now.toISOString(),
  operation,
  by: 'agent',
  jobId: a.target.jobId,
});

/** A history row and the job's change list entry, for one applied change. */
function record(
  a: Applying,
  change: {
    itemId: string;
    memoryType: MemoryKind;
    operation: ChangeOperation;
    label: string;
    actor: string;
  },
  states: { before: Record<string, unknown> | null; after: Record<string, unknown> | null },
) {
  const { before, after } = states;
  recordHistory(a.tx, {
    agentId: a.target.agentId,
    userId: a.target.userId,
    itemId: change.itemId,
    memoryType: change.memoryType,
    operation: change.operation,
    before,
    after,
    jobId: a.target.jobId,
    actor: change.actor,
  });
  a.changes.push(change);
}

type Change<K extends StagedChange['kind']> = Extract<StagedChange, { kind: K }>;

async function applyCore(a: Applying, change: Change<'core'>) {
  const { agentId, userId } = a.target;
  let block = await a.tx.findOne(
    CoreMemoryBlock,
    { agent: agentId, label: change.label, deletedAt: null },
    { lockMode: LockMode.PESSIMISTIC_WRITE },
  );
  const before = block ? { value: block.value } : null;
  block ??= a.tx.create(CoreMemoryBlock, {
    id: uuidv7(),
    agent: agentId,
    user: userId,
    label: change.label,
    value: '',
    limit: DEFAULT_CORE_BLOCK_LIMIT,
    lastModified: stamp(a, 'created'),
  });
  const value = change.op === 'append' ? appendedValue(block.value, change.text) : change.text;
  // Checked when the manager staged it; a user edit since then may have used the room up.
  if (overflowOf(block, block.value, value)) return;
  block.value = value;
  block.lastModified = stamp(a, change.op === 'append' ? 'appended' : 'replaced');
  const operation = change.op === 'append' ? 'appended' : 'rewritten';
  record(
    a,
    { itemId: block.id, memoryType: 'core', operation, label: block.label, actor: change.actor },
    { before, after: { value } },
  );
}

function applyInsert(a: Applying, change: Change<'insert'>, id: string = uuidv7()) {
  const def = MEMORY_DEFS[change.type];
  const item = a.tx.create(
    MemoryItem,
    newItemRow({
      id,
      agentId: a.target.agentId,
      userId: a.target.userId,
      def,
      fields: change.fields,
      lastModified: stamp(a, 'created'),
      now: a.now,
      cipher: a.cipher,
    }),
  );
  if (change.supersedesId) item.supersedesId = change.supersedesId;
  const entry = { itemId: item.id, memoryType: change.type, label: memoryTitle(item), actor: change.actor };
  record(a, { ...entry, operation: 'created' }, { before: null, after: snapshotOf(item) });
  if (def.embeddingText) a.toEmbed.push({ id: item.id, updatedAt: item.updatedAt });
}

/** Secrets shorter than this are not searched for in other text (they would match ordinary words). */
const MIN_SECRET_LENGTH = 6;

/** Replaces every known secret in a value's strings (nested in arrays and objects) by its vault reference. */
function redact(value: unknown, secrets: Map<string, string>): unknown {
  if (typeof value === 'string') {
    let text = value;
    for (const [secret, ref] of secrets) if (text.includes(secret)) text = text.replaceAll(secret, ref);
    return text;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, secrets));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, secrets)]));
  }
  return value;
}

/**
 * The secrets a job must not copy out of the vault: those its managers store now, and those the
 * agent's vault already holds, each with the reference that replaces it elsewhere.
 */
async function knownSecrets(a: Applying, staged: StagedChange[]): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  const add = (secret: unknown, itemId: string) => {
    if (typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH) {
      secrets.set(secret, `[secret: knowledge vault item ${itemId}]`);
    }
  };
  if (!a.cipher.configured) return secrets;
  const stored = await a.tx.find(
    MemoryItem,
    { agent: a.target.agentId, memoryType: 'knowledge_vault', deletedAt: null },
    { populate: ['secretCiphertext'] },
  );
  for (const item of stored) {
    if (item.secretCiphertext && item.secretKeyId) {
      add(a.cipher.decrypt(item.secretCiphertext, item.secretKeyId, item.id), item.id);
    }
  }
  for (const change of staged) {
    if (change.kind === 'update' && change.type === 'knowledge_vault')
      add(change.patch.secretValue, change.id);
  }
  return secrets;
}

/** An update or delete of an item that is gone by now (deleted by its user meanwhile) is skipped. */
async function applyToExisting(a: Applying, change: Change<'update'> | Change<'delete'>) {
  const item = await a.tx.findOne(
    MemoryItem,
    { id: change.id, agent: a.target.agentId, memoryType: change.type, deletedAt: null },
    { lockMode: LockMode.PESSIMISTIC_WRITE, populate: ['content', 'secretCiphertext'] },
  );
  if (!item) return;
  const before = snapshotOf(item);
  const entry = { itemId: item.id, memoryType: change.type, label: memoryTitle(item), actor: change.actor };
  if (change.kind === 'delete') {
    item.deletedAt = a.now;
    item.lastModified = stamp(a, 'deleted');
    record(a, { ...entry, operation: 'deleted' }, { before, after: null });
    return;
  }
  const reembed = patchItem(a.tx, item, {
    def: MEMORY_DEFS[change.type],
    patch: change.patch,
    lastModified: stamp(a, 'updated'),
    now: a.now,
    cipher: a.cipher,
  });
  if (reembed) a.toEmbed.push({ id: item.id, updatedAt: a.now });
  record(a, { ...entry, operation: change.operation }, { before, after: snapshotOf(item) });
}

/** One handler per kind of staged change. */
const APPLY: { [K in StagedChange['kind']]: (a: Applying, change: Change<K>) => unknown } = {
  core: applyCore,
  insert: applyInsert,
  update: applyToExisting,
  delete: applyToExisting,
};

async function applyInTransaction(tx: EntityManager, opts: ApplyJobOptions): Promise<AppliedJob> {
  const a: Applying = {
    tx,
    cipher: opts.cipher,
    target: opts.target,
    now: new Date(),
    changes: [],
    toEmbed: [],
  };
  const secrets = await knownSecrets(a, opts.staged);
  // The job's new vault entries get their ids first, so each secret has its reference before
  // anything (the entry's own caption included) is written.
  const isVaultInsert = (c: StagedChange): c is Change<'insert'> =>
    c.kind === 'insert' && c.type === 'knowledge_vault';
  const vaultInserts = opts.staged.filter(isVaultInsert).map((change) => ({ change, id: uuidv7() }));
  for (const { change, id } of vaultInserts) {
    const secret = change.fields.secretValue;
    if (typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH) {
      secrets.set(secret, `[secret: knowledge vault item ${id}]`);
    }
  }
  for (const { change, id } of vaultInserts) {
    const { secretValue, ...rest } = change.fields;
    applyInsert(a, { ...change, fields: { ...(redact(rest, secrets) as object), secretValue } }, id);
  }
  for (const change of opts.staged) {
    if (isVaultInsert(change)) continue;
    // Whatever else a manager wrote (other memories, core blocks, a vault entry's caption) never
    // holds a secret: it holds the vault item's reference instead.
    const safe = redactChange(change, secrets);
    await (APPLY[safe.kind] as (a: Applying, change: StagedChange) => unknown)(a, safe);
  }
  // The job's stored input keeps no secret either (memory.job shows it; retention keeps it a while).
  const input = secrets.size > 0 ? await redactedInput(tx, opts.target.jobId, secrets) : undefined;
  const completed = await tx.nativeUpdate(
    MemoryJob,
    { id: opts.target.jobId, status: 'active' },
    {
      ...(input !== undefined && { input }),
      status: 'completed',
      changes: a.changes,
      warnings: opts.warnings ?? [],
      error: null,
      finishedAt: new Date(),
      ...opts.usage,
    },
  );
  if (completed === 0) throw new AlreadyApplied();
  return { changes: a.changes, toEmbed: a.toEmbed, alreadyApplied: false };
}

function redactChange(change: StagedChange, secrets: Map<string, string>): StagedChange {
  if (secrets.size === 0) return change;
  switch (change.kind) {
    case 'insert':
      return { ...change, fields: redact(change.fields, secrets) as Record<string, unknown> };
    case 'update': {
      const { secretValue, ...rest } = change.patch;
      const patch = redact(rest, secrets) as Record<string, unknown>;
      return { ...change, patch: secretValue === undefined ? patch : { ...patch, secretValue } };
    }
    case 'core':
      return { ...change, text: redact(change.text, secrets) as string };
    case 'delete':
      return change;
  }
}

/** The job's input with the secrets replaced, or undefined when it holds none. */
async function redactedInput(tx: EntityManager, jobId: string, secrets: Map<string, string>) {
  const job = await tx.findOneOrFail(MemoryJob, jobId, { fields: ['input'] });
  if (!job.input) return undefined;
  const redacted = redact(job.input, secrets) as JobInput;
  return JSON.stringify(redacted) === JSON.stringify(job.input) ? undefined : redacted;
}
