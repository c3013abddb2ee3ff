import { Migration } from '@mikro-orm/migrations';

/**
 * A completed consolidation job's warnings: what went wrong without failing it (a model that
 * answered without calling its tools, tool calls still invalid after a correction). Existing jobs
 * get none.
 */
export class Migration20261203180000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "memory_jobs" add column "warnings" jsonb not null default '[]';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "memory_jobs" drop column "warnings";`);
  }
}
