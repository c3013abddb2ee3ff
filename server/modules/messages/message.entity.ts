import { Entity, Enum, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity.js';
import { Agent } from '../agents/index.js';
import type { MemoryType } from '../memory/index.js';

export const MESSAGE_ROLES = ['user', 'assistant', 'system', 'tool'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface UsedMemory {
  id: string;
  type: MemoryType;
  title: string;
}

export interface MessageMetadata {
  status: 'pending' | 'complete' | 'failed' | 'interrupted';
  error?: { code: string; message: string };
  /** The memories that were put in the prompt for this turn (a vault item by its caption only). */
  memoriesUsed?: UsedMemory[];
  provider?: string;
  model?: string;
}

@Entity({ tableName: 'messages' })
@Index({ name: 'messages_agent_created_id_idx', properties: ['agent', 'createdAt', 'id'] })
// The turns still running (or abandoned): what failAbandonedTurns reads.
@Index({
  name: 'messages_pending_turn_idx',
  expression: `create index "messages_pending_turn_idx" on "messages" ("created_at") where ("metadata"->>'status') = 'pending'`,
})
export class Message extends BaseEntity<'senderId' | 'tokenUsage' | 'metadata'> {
  @ManyToOne({ entity: () => Agent, ref: true, deleteRule: 'cascade' })
  agent!: Ref<Agent>;

  @Enum({ items: () => [...MESSAGE_ROLES] })
  role!: MessageRole;

  @Property({ type: 'text' })
  content!: string;

  /** The user who sent a `user` message (null for assistant, system and tool messages). */
  @Property({ type: 'uuid', nullable: true })
  senderId: string | null = null;

  @Property({ type: 'json', columnType: 'jsonb', nullable: true })
  tokenUsage: TokenUsage | null = null;

  /**
   * How the turn went: a user message is pending while its turn runs, failed (with the error) when
   * it failed; an assistant message is interrupted when a stream was aborted. Null: complete.
   */
  @Property({ type: 'json', columnType: 'jsonb', nullable: true })
  metadata: MessageMetadata | null = null;
}
