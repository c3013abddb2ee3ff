import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity.js';
import { User } from '../users/index.js';

export type LlmProvider = 'openai' | 'anthropic';

/** Which model an agent talks to, and the parameters passed to it (temperature, max tokens, ...). */
export interface ModelConfig {
  provider: LlmProvider;
  model: string;
  parameters: Record<string, unknown>;
}

@Entity({ tableName: 'agents' })
@Index({ name: 'agents_owner_created_idx', properties: ['owner', 'createdAt'] })
export class Agent extends BaseEntity<'description' | 'systemPrompt' | 'isActive' | 'deletedAt'> {
  @ManyToOne({ entity: () => User, ref: true, deleteRule: 'cascade' })
  owner!: Ref<User>;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'string', length: 64 })
  @Index()
  agentType!: string;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Property({ type: 'text', nullable: true })
  systemPrompt: string | null = null;

  @Property({ type: 'json', columnType: 'jsonb' })
  modelConfig!: ModelConfig;

  @Property({ type: 'boolean' })
  isActive: boolean = true;

  /** Soft delete: a deleted agent is invisible to every procedure, but its rows are kept. */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  deletedAt: Date | null = null;
}
