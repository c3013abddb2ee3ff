import { Entity, Enum, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity.js';
import { Agent } from '../agents/index.js';
import { User } from '../users/index.js';
import { JOB_STATUSES, type JobStatus, type TMemoryChange } from '../../../shared/memory-events.js';

export const JOB_SOURCES = ['chat', 'messages', 'text'] as const;
export type JobSource = (typeof JOB_SOURCES)[number];

/** What a job learns from: a chat turn's messages (by id), ingested messages, or a text. */
export type JobInput =
  | { kind: 'chat'; messageIds: string[] }
  | { kind: 'messages'; messages: { role: string; content: string; occurredAt?: string }[] }
  | { kind: 'text'; text: string; source?: string | null };

/**
 * One consolidation job. The row is the job's truth: its content, status, usage and the changes it
 * made. The BullMQ job (same id) only schedules it, so a lost queue loses no work. `id` is a
 * UUIDv7, so ordering by id is the order of arrival, which is the order an agent's jobs apply in.
 */
@Entity({ tableName: 'memory_jobs' })
@Index({ name: 'memory_jobs_agent_status_id_idx', properties: ['agent', 'status', 'id'] })
@Index({ name: 'memory_jobs_agent_id_idx', properties: ['agent', 'id'] })
export class MemoryJob extends BaseEntity<
  | 'status'
  | 'attempts'
  | 'error'
  | 'changes'
  | 'warnings'
  | 'llmCalls'
  | 'promptTokens'
  | 'completionTokens'
  | 'totalTokens'
  | 'startedAt'
  | 'finishedAt'
> {
  @ManyToOne({ entity: () => Agent, ref: true, deleteRule: 'cascade' })
  agent!: Ref<Agent>;

  @ManyToOne({ entity: () => User, ref: true, deleteRule: 'cascade' })
  @Index()
  user!: Ref<User>;

  @Enum({ items: () => [...JOB_SOURCES] })
  source!: JobSource;

  /** What the job was given; null once retention purged it (JOB_INPUT_RETENTION_DAYS after it finished). */
  @Property({ type: 'json', columnType: 'jsonb', nullable: true })
  input!: JobInput | null;

  @Enum({ items: () => [...JOB_STATUSES] })
  status: JobStatus = 'queued';

  /** Attempts started so far (a retried job counts each). */
  @Property({ type: 'integer' })
  attempts: number = 0;

  /** The last failure (kept while the job retries, final once it has failed). */
  @Property({ type: 'json', columnType: 'jsonb', nullable: true })
  error: { code: string; message: string } | null = null;

  @Property({ type: 'json', columnType: 'jsonb', nullable: true })
  changes: TMemoryChange[] | null = null;

  /**
   * What went wrong in a completed job without failing it: a model that answered without calling
   * its tools, tool calls still invalid after a correction. Empty for a clean job.
   */
  @Property({ type: 'json', columnType: 'jsonb', default: '[]' })
  warnings: string[] = [];

  @Property({ type: 'integer' })
  llmCalls: number = 0;

  @Property({ type: 'integer' })
  promptTokens: number = 0;

  @Property({ type: 'integer' })
  completionTokens: number = 0;

  @Property({ type: 'integer' })
  totalTokens: number = 0;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  finishedAt: Date | null = null;
}
