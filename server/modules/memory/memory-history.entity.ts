import { Entity, Enum, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity.js';
import { Agent } from '../agents/index.js';
import { User } from '../users/index.js';
import {
  CHANGE_OPERATIONS,
  type ChangeOperation,
  MEMORY_KINDS,
  type MemoryKind,
} from '../../../shared/memory-events.js';

/**
 * The audit trail of memory changes: one row per change, with the item before and after. A vault
 * item's secret appears only as its ciphertext (and key id), exactly as stored.
 */
@Entity({ tableName: 'memory_history' })
@Index({ name: 'memory_history_item_created_idx', properties: ['itemId', 'createdAt'] })
export class MemoryHistory extends BaseEntity<'before' | 'after' | 'job'> {
  @ManyToOne({ entity: () => Agent, ref: true, deleteRule: 'cascade' })
  agent!: Ref<Agent>;

  @ManyToOne({ entity: () => User, ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  /** A memory item's id, or a core block's. */
  @Property({ type: 'uuid' })
  itemId!: string;

  @Enum({ items: () => [...MEMORY_KINDS] })
  memoryType!: MemoryKind;

  @Enum({ items: () => [...CHANGE_OPERATIONS] })
  operation!: ChangeOperation;

  @Property({ type: 'json', columnType: 'jsonb', nullable: true })
  before: Record<string, unknown> | null = null;

  @Property({ type: 'json', columnType: 'jsonb', nullable: true })
  after: Record<string, unknown> | null = null;

  /** The consolidation job that made the change (named, not imported: memory does not depend on it). */
  @ManyToOne({ entity: 'MemoryJob', ref: true, nullable: true, deleteRule: 'set null' })
  @Index()
  job: Ref<{ id: string }> | null = null;

  /** Who made the change: a memory manager (`semantic_memory_manager`, ...) or `user`. */
  @Property({ type: 'string', length: 64 })
  actor!: string;
}
