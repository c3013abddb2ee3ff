import { Entity, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity.js';
import { Agent } from '../agents/agent.entity.js';
import { User } from '../users/user.entity.js';
import type { LastModified } from './memory.types.js';

export const DEFAULT_CORE_BLOCK_LIMIT = 5000;

/**
 * Core memory: a few labelled blocks (persona, human, or custom) that are always in the agent's
 * prompt. They are read whole, so they need no embedding or search index.
 */
@Entity({ tableName: 'core_memory_blocks' })
@Unique({ name: 'core_memory_blocks_agent_label_unique', properties: ['agent', 'label'] })
export class CoreMemoryBlock extends BaseEntity<'value' | 'limit' | 'deletedAt'> {
  @ManyToOne({ entity: () => Agent, ref: true, deleteRule: 'cascade' })
  agent!: Ref<Agent>;

  @ManyToOne({ entity: () => User, ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 64 })
  label!: string;

  @Property({ type: 'text' })
  value: string = '';

  /** Maximum length of `value`, in characters. */
  @Property({ type: 'integer' })
  limit: number = DEFAULT_CORE_BLOCK_LIMIT;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  deletedAt: Date | null = null;

  @Property({ type: 'json', columnType: 'jsonb' })
  lastModified!: LastModified;
}
