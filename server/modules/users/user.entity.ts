import { Entity, Property } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity.js';

@Entity({ tableName: 'users' })
export class User extends BaseEntity<'fullName' | 'isActive' | 'isSuperuser'> {
  /** Stored lower-case; unique. */
  @Property({ type: 'string', length: 64, unique: true })
  username!: string;

  /** Stored lower-case; unique. */
  @Property({ type: 'string', length: 320, unique: true })
  email!: string;

  @Property({ type: 'string', length: 200, nullable: true })
  fullName: string | null = null;

  /** argon2id hash. Never leaves the service layer. */
  @Property({ type: 'string', length: 255, hidden: true, lazy: false })
  passwordHash!: string;

  @Property({ type: 'boolean' })
  isActive: boolean = true;

  @Property({ type: 'boolean' })
  isSuperuser: boolean = false;
}
