import { Migration } from '@mikro-orm/migrations';

/**
 * Question-shaped search (docs/decisions/0001-question-shaped-search.md):
 * - `mirix_search_text` splits Chinese and Japanese characters into tokens of their own, which the
 *   `english` parser would otherwise keep as one unsearchable word per run of characters;
 * - `context_tsv` holds what an episodic memory is findable through besides its own words (its
 *   neighbouring episodes and its date, weight D): written with the embedding by the embed worker
 *   (so an insert is written once), and refreshed around edits and deletes by triggers;
 * - `tsv` is rebuilt on top of both (own fields A-C, context D);
 * - the full-text and trigram indexes lead with `agent_id` (btree_gin), so a signal reads only
 *   the agent's postings however many agents share the table.
 */
export class Migration20261201213000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create extension if not exists "btree_gin";`);
    this.addSql(`create or replace function mirix_search_text(t text) returns text
      language sql immutable parallel safe
      return regexp_replace(coalesce(t, ''), '([\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff])', ' \\1 ', 'g');`);

    this.addSql(`alter table "memories" add column "context_tsv" tsvector null;`);
    // Vectors stay in the row instead of TOAST: an exact scan of an agent's rows then reads one
    // page per two memories instead of two TOAST chunks per memory (docs/decisions/0002-exact-vectors.md).
    this.addSql(`alter table "memories" alter column "embedding" set storage plain;`);
    // A denser HNSW graph: recall@10 0.96 instead of 0.81 for a 100k-memory agent in a 1M-row table.
    this.addSql(`drop index if exists "memories_embedding_hnsw_idx";`);
    this.addSql(`create index "memories_embedding_hnsw_idx" on "memories" using hnsw ("embedding" vector_cosine_ops) with (m = 12, ef_construction = 48) where "deleted_at" is null;`);
    this.addSql(`drop index if exists "memories_tsv_gin_idx";`);
    this.addSql(`drop index if exists "memories_trgm_text_gin_idx";`);
    this.addSql(`alter table "memories" drop column "tsv";`);
    this.addSql(`alter table "memories" add column "tsv" tsvector generated always as (
      setweight(to_tsvector('english', mirix_search_text(coalesce(name, '') || ' ' || coalesce(title, '') || ' ' || coalesce(event_type, '') || ' ' || coalesce(actor, ''))), 'A')
      || setweight(to_tsvector('english', mirix_search_text(coalesce(summary, '') || ' ' || coalesce(caption, ''))), 'B')
      || setweight(to_tsvector('english', mirix_search_text(coalesce(details, '') || ' ' || coalesce(entry_type, '') || ' ' || coalesce(steps::text, '') || ' ' || left(coalesce(content, ''), 100000))), 'C')
      || coalesce(context_tsv, ''::tsvector)) stored;`);
    this.addSql(`create index "memories_agent_tsv_gin_idx" on "memories" using gin ("agent_id", "tsv");`);
    this.addSql(`create index "memories_agent_trgm_gin_idx" on "memories" using gin ("agent_id", "trgm_text" gin_trgm_ops);`);

    // The context of one episodic memory: the text of the two episodes before and the two after
    // it in the agent's timeline (within 12 hours), and its date in words.
    this.addSql(`create or replace function mirix_episode_context(p_agent uuid, p_at timestamptz, p_id uuid)
      returns tsvector language sql stable parallel safe
      begin atomic
        select setweight(to_tsvector('english', mirix_search_text(coalesce(string_agg(n.txt, ' '), ''))), 'D')
          || setweight(to_tsvector('english', to_char(p_at at time zone 'UTC', 'FMDD FMMonth YYYY')), 'D')
        from (
          (select coalesce(b.summary, '') || ' ' || coalesce(b.details, '') as txt from memories b
            where b.agent_id = p_agent and b.deleted_at is null and b.memory_type = 'episodic'
              and (coalesce(b.occurred_at, b.created_at), b.id) < (p_at, p_id)
              and coalesce(b.occurred_at, b.created_at) >= p_at - interval '12 hours'
            order by coalesce(b.occurred_at, b.created_at) desc, b.id desc limit 2)
          union all
          (select coalesce(a.summary, '') || ' ' || coalesce(a.details, '') from memories a
            where a.agent_id = p_agent and a.deleted_at is null and a.memory_type = 'episodic'
              and (coalesce(a.occurred_at, a.created_at), a.id) > (p_at, p_id)
              and coalesce(a.occurred_at, a.created_at) <= p_at + interval '12 hours'
            order by coalesce(a.occurred_at, a.created_at), a.id limit 2)
        ) n;
      end;`);

    // Recomputes the context of the live episodes at these positions and of their neighbours
    // (the episodes whose context can name them). Rows whose context is unchanged are not written.
    // Writers of one agent's episodes take turns here (a transaction-scoped advisory lock per
    // agent, in agent order), so two concurrent inserts never wait on each other's neighbours;
    // each then sees the other's committed rows. A neighbour row another writer holds right now
    // (the embed worker setting its vector) is skipped rather than waited for, so no lock cycle
    // can form; its context is brought up to date by the next write beside it.
    this.addSql(`create or replace function mirix_refresh_episode_context(p_agents uuid[], p_ats timestamptz[], p_ids uuid[], p_anchors boolean default true)
      returns void language plpgsql volatile as $$
      begin
        perform pg_advisory_xact_lock(7412, hashtext(a::text)) from (select distinct a from unnest(p_agents) a order by 1) s;
        with anchor as (
          select * from unnest(p_agents, p_ats, p_ids) as x(agent_id, at, id)
        ), target as (
          select id from anchor where p_anchors
          union
          select n.id from anchor x cross join lateral (
            (select b.id from memories b
              where b.agent_id = x.agent_id and b.deleted_at is null and b.memory_type = 'episodic'
                and (coalesce(b.occurred_at, b.created_at), b.id) < (x.at, x.id)
                and coalesce(b.occurred_at, b.created_at) >= x.at - interval '12 hours'
              order by coalesce(b.occurred_at, b.created_at) desc, b.id desc limit 2)
            union all
            (select a.id from memories a
              where a.agent_id = x.agent_id and a.deleted_at is null and a.memory_type = 'episodic'
                and (coalesce(a.occurred_at, a.created_at), a.id) > (x.at, x.id)
                and coalesce(a.occurred_at, a.created_at) <= x.at + interval '12 hours'
              order by coalesce(a.occurred_at, a.created_at), a.id limit 2)
          ) n
          where p_anchors or n.id <> all(p_ids)
        ), locked as (
          select m.id from memories m join target t on t.id = m.id
          where m.memory_type = 'episodic' and m.deleted_at is null
          order by m.id for update of m skip locked
        ), fresh as (
          select m.id, mirix_episode_context(m.agent_id, coalesce(m.occurred_at, m.created_at), m.id) as ctx
          from memories m join locked l on l.id = m.id
        )
        update memories m set context_tsv = f.ctx from fresh f
        where m.id = f.id and m.context_tsv is distinct from f.ctx;
      end $$;`);

    // An update matters when an episode's text, time or liveness changed: its old and its new
    // neighbours are refreshed. A row trigger with a WHEN clause, so the embed worker's vector
    // writes (the bulk of all updates) cost nothing here; the context's own writes change none of
    // these columns, so this ends.
    this.addSql(`create or replace function mirix_memories_context_upd() returns trigger language plpgsql as $$
      begin
        perform mirix_refresh_episode_context(
          array[new.agent_id, old.agent_id], array[coalesce(new.occurred_at, new.created_at), coalesce(old.occurred_at, old.created_at)],
          array[new.id, old.id]);
        return null;
      end $$;`);
    this.addSql(`create or replace function mirix_memories_context_del() returns trigger language plpgsql as $$
      begin
        perform mirix_refresh_episode_context(array_agg(agent_id), array_agg(coalesce(occurred_at, created_at)), array_agg(id))
        from old_rows where memory_type = 'episodic' having count(*) > 0;
        return null;
      end $$;`);
    this.addSql(`create trigger memories_context_upd after update of summary, details, occurred_at, deleted_at, memory_type on memories
      for each row when ((new.memory_type = 'episodic' or old.memory_type = 'episodic')
        and (new.summary is distinct from old.summary or new.details is distinct from old.details
          or new.occurred_at is distinct from old.occurred_at or new.deleted_at is distinct from old.deleted_at
          or new.memory_type is distinct from old.memory_type))
      execute function mirix_memories_context_upd();`);
    this.addSql(`create trigger memories_context_del after delete on memories referencing old table as old_rows
      for each statement execute function mirix_memories_context_del();`);

    // Existing episodes get their context now.
    this.addSql(`select mirix_refresh_episode_context(array_agg(agent_id), array_agg(coalesce(occurred_at, created_at)), array_agg(id))
      from memories where memory_type = 'episodic' and deleted_at is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists memories_context_upd on memories;`);
    this.addSql(`drop trigger if exists memories_context_del on memories;`);
    this.addSql(`drop function if exists mirix_memories_context_upd(), mirix_memories_context_del();`);
    this.addSql(`drop function if exists mirix_refresh_episode_context(uuid[], timestamptz[], uuid[], boolean);`);
    this.addSql(`drop function if exists mirix_episode_context(uuid, timestamptz, uuid);`);
    this.addSql(`drop index if exists "memories_agent_tsv_gin_idx";`);
    this.addSql(`drop index if exists "memories_agent_trgm_gin_idx";`);
    this.addSql(`alter table "memories" drop column "tsv";`);
    this.addSql(`alter table "memories" drop column "context_tsv";`);
    this.addSql(`alter table "memories" alter column "embedding" set storage external;`);
    this.addSql(`drop index if exists "memories_embedding_hnsw_idx";`);
    this.addSql(`create index "memories_embedding_hnsw_idx" on "memories" using hnsw ("embedding" vector_cosine_ops) with (m = 8, ef_construction = 32) where "deleted_at" is null;`);
    this.addSql(`alter table "memories" add column "tsv" tsvector generated always as (((setweight(to_tsvector('english'::regconfig, (((((((COALESCE(name, ''::character varying))::text || ' '::text) || (COALESCE(title, ''::character varying))::text) || ' '::text) || (COALESCE(event_type, ''::character varying))::text) || ' '::text) || (COALESCE(actor, ''::character varying))::text)), 'A'::"char") || setweight(to_tsvector('english'::regconfig, ((COALESCE(summary, ''::text) || ' '::text) || COALESCE(caption, ''::text))), 'B'::"char")) || setweight(to_tsvector('english'::regconfig, ((((COALESCE(details, ''::text) || ' '::text) || (COALESCE(entry_type, ''::character varying))::text) || ' '::text) || COALESCE((steps)::text, ''::text))), 'C'::"char")) || setweight(to_tsvector('english'::regconfig, "left"(COALESCE(content, ''::text), 100000)), 'D'::"char")) stored;`);
    this.addSql(`create index "memories_tsv_gin_idx" on "memories" using gin ("tsv");`);
    this.addSql(`create index "memories_trgm_text_gin_idx" on "memories" using gin ("trgm_text" gin_trgm_ops);`);
    this.addSql(`drop function if exists mirix_search_text(text);`);
  }
}
