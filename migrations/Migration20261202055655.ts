import { Migration } from '@mikro-orm/migrations';

/** Retention purges a finished job's raw input (JOB_INPUT_RETENTION_DAYS): the column may be null. */
export class Migration20261202055655 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "memory_jobs" alter column "input" drop not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`update "memory_jobs" set "input" = '{"kind":"text","text":"","source":null}' where "input" is null;`);
    this.addSql(`alter table "memory_jobs" alter column "input" set not null;`);
  }
}
