import { Migration } from '@mikro-orm/migrations';

export class Migration20261127113407 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "messages" add column "metadata" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "messages" drop column "metadata";`);
  }

}
