import { Migration } from '@mikro-orm/migrations';

export class Migration20261127094223 extends Migration {

  override async up(): Promise<void> {
    // pgvector: memory embeddings live next to the rows they describe.
    this.addSql(`create extension if not exists "vector";`);

    this.addSql(`create table "users" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "username" varchar(64) not null, "email" varchar(320) not null, "full_name" varchar(200) null, "password_hash" varchar(255) not null, "is_active" boolean not null default true, "is_superuser" boolean not null default false, constraint "users_pkey" primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_username_unique" unique ("username");`);
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);

    this.addSql(`create table "api_keys" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "owner_id" uuid not null, "name" varchar(100) not null, "prefix" varchar(32) not null, "hash" varchar(64) not null, "last_used_at" timestamptz null, "expires_at" timestamptz null, "revoked_at" timestamptz null, constraint "api_keys_pkey" primary key ("id"));`);
    this.addSql(`create index "api_keys_owner_id_index" on "api_keys" ("owner_id");`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_prefix_unique" unique ("prefix");`);

    this.addSql(`create table "agents" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "owner_id" uuid not null, "name" varchar(200) not null, "agent_type" varchar(64) not null, "description" text null, "system_prompt" text null, "model_config" jsonb not null, "is_active" boolean not null default true, "deleted_at" timestamptz null, constraint "agents_pkey" primary key ("id"));`);
    this.addSql(`create index "agents_agent_type_index" on "agents" ("agent_type");`);
    this.addSql(`create index "agents_owner_created_idx" on "agents" ("owner_id", "created_at");`);

    this.addSql(`create table "messages" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agent_id" uuid not null, "role" text check ("role" in ('user', 'assistant', 'system', 'tool')) not null, "content" text not null, "sender_id" uuid null, "token_usage" jsonb null, constraint "messages_pkey" primary key ("id"));`);
    this.addSql(`create index "messages_agent_created_id_idx" on "messages" ("agent_id", "created_at", "id");`);

    this.addSql(`alter table "api_keys" add constraint "api_keys_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "agents" add constraint "agents_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "messages" add constraint "messages_agent_id_foreign" foreign key ("agent_id") references "agents" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "messages" cascade;`);
    this.addSql(`drop table if exists "agents" cascade;`);
    this.addSql(`drop table if exists "api_keys" cascade;`);
    this.addSql(`drop table if exists "users" cascade;`);
  }
}
