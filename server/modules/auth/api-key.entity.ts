import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity.js';
import { User } from '../users/index.js';

/**
 * A long-lived credential for servers and non-TypeScript clients. Only a SHA-256 of the key is
 * stored: the key has 256 bits of entropy, so a slow hash adds nothing but latency per request.
 */
@Entity({ tableName: 'api_keys' })
export class ApiKey extends BaseEntity<'lastUsedAt' | 'revokedAt' | 'expiresAt'> {
  @ManyToOne({ entity: () => User, ref: true, deleteRule: 'cascade' })
  @Index()
  owner!: Ref<User>;

  @Property({ type: 'string', length: 100 })
  name!: string;

  /** The public, non-secret start of the key (shown in lists, used for look-up). */
  @Property({ type: 'string', length: 32, unique: true })
  prefix!: string;

  /** Hex SHA-256 of the whole key. */
  @Property({ type: 'string', length: 64, hidden: true })
  hash!: string;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  lastUsedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  expiresAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;
}
