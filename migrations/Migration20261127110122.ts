import { Migration } from '@mikro-orm/migrations';

export class Migration20261127110122 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index "memories_agent_recent_idx" on "memories" ("agent_id", (coalesce("occurred_at", "created_at")) desc, "id" desc) where "deleted_at" is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "memories_agent_recent_idx";`);
  }

}
