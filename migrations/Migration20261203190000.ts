import { Migration } from '@mikro-orm/migrations';

/**
 * Validity: every memory holds from `valid_from` (null: since it was created, which is how the
 * rows already here are read, so none is rewritten) until `valid_to` (null: still true), and a
 * fact that replaced another names it in `supersedes_id`. History gets the `superseded` operation.
 * Adding nullable columns without a default only changes the catalogue: no table rewrite.
 */
export class Migration20261203190000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "memories" add column "valid_from" timestamptz null, add column "valid_to" timestamptz null, add column "supersedes_id" uuid null;`,
    );
    this.addSql(`alter table "memory_history" drop constraint "memory_history_operation_check";`);
    this.addSql(
      `alter table "memory_history" add constraint "memory_history_operation_check" check ("operation" in ('created', 'updated', 'merged', 'deleted', 'appended', 'rewritten', 'superseded'));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "memory_history" drop constraint "memory_history_operation_check";`);
    this.addSql(
      `alter table "memory_history" add constraint "memory_history_operation_check" check ("operation" in ('created', 'updated', 'merged', 'deleted', 'appended', 'rewritten'));`,
    );
    this.addSql(`alter table "memories" drop column "valid_from", drop column "valid_to", drop column "supersedes_id";`);
  }
}
