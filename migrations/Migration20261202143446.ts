import { Migration } from '@mikro-orm/migrations';

export class Migration20261202143446 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index "messages_pending_turn_idx" on "messages" ("created_at") where ("metadata"->>'status') = 'pending';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "messages_pending_turn_idx";`);
  }

}
