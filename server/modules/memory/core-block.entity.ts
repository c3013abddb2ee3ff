import { Entity, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity.js';
import { Agent } from '../agents/index.js';
import { User } from '../users/index.js';
import type { LastModified } from './memory.types.js';

export const DEFAULT_CORE_BLOCK_LIMIT = 5000;

/** Every agent has these two blocks (MIRIX's persona and human), created with it. */
export const DEFAULT_CORE_LABELS = ['persona', 'human'] as const;

/** A block's value after appending text: on a line of its own, unless the block is empty. */
export const appendedValue = (current: string, text: string) =>
  current.length === 0 ? text : `${current}\n${text}`;

/**
 * Why a new value does not fit its block (with how much room there was), or null if it does. The
 * API answers it as BAD_REQUEST; a memory manager gets it as its tool's error.
 */
export function overflowOf(block: { label: string; limit: number }, current: string, value: string) {
  if (value.length <= block.limit) return null;
  const left = Math.max(0, block.limit - current.length);
  return `Core block "${block.label}" has ${left} of ${block.limit} characters left; this write would make it ${value.length} characters (${value.length - block.limit} too many)`;
}

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
