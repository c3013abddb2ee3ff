import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity.js';
import { User } from '../users/index.js';
import { MemoryItem } from './memory.entity.js';

/** Audit trail: one row for every time a knowledge-vault secret was revealed. */
@Entity({ tableName: 'vault_access_log' })
export class VaultAccess extends BaseEntity {
  @ManyToOne({ entity: () => MemoryItem, ref: true, deleteRule: 'cascade' })
  @Index()
  item!: Ref<MemoryItem>;

  @ManyToOne({ entity: () => User, ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 32 })
  action!: 'reveal';

  @Property({ type: 'string', length: 100, nullable: true })
  requestId: string | null = null;

  @Property({ type: 'string', length: 100, nullable: true })
  ip: string | null = null;
}
