import { Migration } from '@mikro-orm/migrations';

/**
 * A memory's row keeps its texts and tsvectors inline. Its vector is stored in the row
 * (STORAGE PLAIN), so every row is over PostgreSQL's default 2 KB toast target and every other
 * value of more than a few bytes was moved to the TOAST table: each full-text check, recency walk
 * and fetch of a memory then read two more pages. With the target at the largest a page allows,
 * only rows over 8 KB are toasted. Rows written before this migration keep their TOASTed values
 * until they are rewritten (`VACUUM FULL memories`, or any update). Figures: docs/benchmarks.md.
 */
export class Migration20261203120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "memories" set (toast_tuple_target = 8160);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "memories" reset (toast_tuple_target);`);
  }
}
