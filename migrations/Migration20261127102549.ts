import { Migration } from '@mikro-orm/migrations';

/**
 * Search performance: trigram matching only over short, name-like text; a cheaper HNSW graph
 * (m = 8, ef_construction = 32) that also skips soft-deleted rows.
 */
export class Migration20261127102549 extends Migration {

  override async up(): Promise<void> {
    // Dropping the column drops its GIN index too; both are recreated.
    this.addSql(`alter table "memories" drop column "trgm_text";`);
    this.addSql(`alter table "memories" add column "trgm_text" text generated always as ("left"((COALESCE(name, title, (caption)::character varying, ((((event_type)::text || ' '::text) || (actor)::text))::character varying, entry_type, ''::character varying))::text, 100)) stored null;`);
    this.addSql(`create index "memories_trgm_text_gin_idx" on "memories" using gin ("trgm_text" gin_trgm_ops);`);

    this.addSql(`drop index if exists "memories_embedding_hnsw_idx";`);
    this.addSql(`create index "memories_embedding_hnsw_idx" on "memories" using hnsw ("embedding" vector_cosine_ops) with (m = 8, ef_construction = 32) where "deleted_at" is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "memories_embedding_hnsw_idx";`);
    this.addSql(`create index "memories_embedding_hnsw_idx" on "memories" using hnsw ("embedding" vector_cosine_ops);`);

    this.addSql(`alter table "memories" drop column "trgm_text";`);
    this.addSql(`alter table "memories" add column "trgm_text" text generated always as ("left"((COALESCE(name, title, (caption)::character varying, (summary)::character varying, ''::character varying))::text, 200)) stored null;`);
    this.addSql(`create index "memories_trgm_text_gin_idx" on "memories" using gin ("trgm_text" gin_trgm_ops);`);
  }

}
