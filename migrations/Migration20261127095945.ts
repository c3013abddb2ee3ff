import { Migration } from '@mikro-orm/migrations';

export class Migration20261127095945 extends Migration {

  override async up(): Promise<void> {
    // Trigram matching for misspellings in short fields (memories.trgm_text).
    this.addSql(`create extension if not exists "pg_trgm";`);

    this.addSql(`create table "memories" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agent_id" uuid not null, "user_id" uuid not null, "memory_type" text check ("memory_type" in ('episodic', 'semantic', 'procedural', 'resource', 'knowledge_vault')) not null, "deleted_at" timestamptz null, "last_modified" jsonb not null, "embedding" vector(768) null, "embedding_model" varchar(200) null, "occurred_at" timestamptz null, "event_type" varchar(100) null, "actor" varchar(200) null, "summary" text null, "details" text null, "name" varchar(500) null, "source" varchar(500) null, "entry_type" varchar(100) null, "steps" jsonb null, "title" varchar(500) null, "resource_type" varchar(100) null, "content" text null, "sensitivity" text check ("sensitivity" in ('low', 'medium', 'high')) null, "secret_ciphertext" text null, "secret_key_id" varchar(64) null, "caption" text null, "tsv" tsvector generated always as (((setweight(to_tsvector('english'::regconfig, (((((((COALESCE(name, ''::character varying))::text || ' '::text) || (COALESCE(title, ''::character varying))::text) || ' '::text) || (COALESCE(event_type, ''::character varying))::text) || ' '::text) || (COALESCE(actor, ''::character varying))::text)), 'A'::"char") || setweight(to_tsvector('english'::regconfig, ((COALESCE(summary, ''::text) || ' '::text) || COALESCE(caption, ''::text))), 'B'::"char")) || setweight(to_tsvector('english'::regconfig, ((((COALESCE(details, ''::text) || ' '::text) || (COALESCE(entry_type, ''::character varying))::text) || ' '::text) || COALESCE((steps)::text, ''::text))), 'C'::"char")) || setweight(to_tsvector('english'::regconfig, "left"(COALESCE(content, ''::text), 100000)), 'D'::"char")) stored null, "trgm_text" text generated always as ("left"((COALESCE(name, title, (caption)::character varying, (summary)::character varying, ''::character varying))::text, 200)) stored null, constraint "memories_pkey" primary key ("id"));`);
    this.addSql(`create index "memories_user_id_index" on "memories" ("user_id");`);
    this.addSql(`create index "memories_pending_embedding_idx" on "memories" ("updated_at") where "embedding" is null and "deleted_at" is null and "memory_type" <> 'knowledge_vault';`);
    this.addSql(`create index "memories_trgm_text_gin_idx" on "memories" using gin ("trgm_text" gin_trgm_ops);`);
    this.addSql(`create index "memories_tsv_gin_idx" on "memories" using gin ("tsv");`);
    this.addSql(`create index "memories_embedding_hnsw_idx" on "memories" using hnsw ("embedding" vector_cosine_ops);`);
    this.addSql(`create index "memories_agent_type_time_idx" on "memories" ("agent_id", "memory_type", "created_at");`);

    this.addSql(`create table "core_memory_blocks" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agent_id" uuid not null, "user_id" uuid not null, "label" varchar(64) not null, "value" text not null default '', "limit" int not null default 5000, "deleted_at" timestamptz null, "last_modified" jsonb not null, constraint "core_memory_blocks_pkey" primary key ("id"));`);
    this.addSql(`alter table "core_memory_blocks" add constraint "core_memory_blocks_agent_label_unique" unique ("agent_id", "label");`);

    this.addSql(`create table "vault_access_log" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "item_id" uuid not null, "user_id" uuid not null, "action" varchar(32) not null, "request_id" varchar(100) null, "ip" varchar(100) null, constraint "vault_access_log_pkey" primary key ("id"));`);
    this.addSql(`create index "vault_access_log_item_id_index" on "vault_access_log" ("item_id");`);

    this.addSql(`alter table "memories" add constraint "memories_agent_id_foreign" foreign key ("agent_id") references "agents" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "memories" add constraint "memories_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "core_memory_blocks" add constraint "core_memory_blocks_agent_id_foreign" foreign key ("agent_id") references "agents" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "core_memory_blocks" add constraint "core_memory_blocks_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "vault_access_log" add constraint "vault_access_log_item_id_foreign" foreign key ("item_id") references "memories" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "vault_access_log" add constraint "vault_access_log_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "vault_access_log" drop constraint "vault_access_log_item_id_foreign";`);

    this.addSql(`drop table if exists "memories" cascade;`);

    this.addSql(`drop table if exists "core_memory_blocks" cascade;`);

    this.addSql(`drop table if exists "vault_access_log" cascade;`);
  }

}
