import { Migration } from '@mikro-orm/migrations';

export class Migration20261127122748 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "memory_jobs" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agent_id" uuid not null, "user_id" uuid not null, "source" text check ("source" in ('chat', 'messages', 'text')) not null, "input" jsonb not null, "status" text check ("status" in ('queued', 'active', 'completed', 'failed')) not null default 'queued', "attempts" int not null default 0, "error" jsonb null, "changes" jsonb null, "llm_calls" int not null default 0, "prompt_tokens" int not null default 0, "completion_tokens" int not null default 0, "total_tokens" int not null default 0, "started_at" timestamptz null, "finished_at" timestamptz null, constraint "memory_jobs_pkey" primary key ("id"));`);
    this.addSql(`create index "memory_jobs_user_id_index" on "memory_jobs" ("user_id");`);
    this.addSql(`create index "memory_jobs_agent_id_idx" on "memory_jobs" ("agent_id", "id");`);
    this.addSql(`create index "memory_jobs_agent_status_id_idx" on "memory_jobs" ("agent_id", "status", "id");`);

    this.addSql(`create table "memory_history" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "agent_id" uuid not null, "user_id" uuid not null, "item_id" uuid not null, "memory_type" text check ("memory_type" in ('core', 'episodic', 'semantic', 'procedural', 'resource', 'knowledge_vault')) not null, "operation" text check ("operation" in ('created', 'updated', 'merged', 'deleted', 'appended', 'rewritten')) not null, "before" jsonb null, "after" jsonb null, "job_id" uuid null, "actor" varchar(64) not null, constraint "memory_history_pkey" primary key ("id"));`);
    this.addSql(`create index "memory_history_job_id_index" on "memory_history" ("job_id");`);
    this.addSql(`create index "memory_history_item_created_idx" on "memory_history" ("item_id", "created_at");`);

    this.addSql(`alter table "memory_jobs" add constraint "memory_jobs_agent_id_foreign" foreign key ("agent_id") references "agents" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "memory_jobs" add constraint "memory_jobs_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "memory_history" add constraint "memory_history_agent_id_foreign" foreign key ("agent_id") references "agents" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "memory_history" add constraint "memory_history_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "memory_history" add constraint "memory_history_job_id_foreign" foreign key ("job_id") references "memory_jobs" ("id") on update cascade on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "memory_history" drop constraint "memory_history_job_id_foreign";`);

    this.addSql(`drop table if exists "memory_jobs" cascade;`);

    this.addSql(`drop table if exists "memory_history" cascade;`);
  }

}
