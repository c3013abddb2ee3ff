import { Migration } from '@mikro-orm/migrations';

/**
 * An episode still waiting for its vector is no longer refreshed when a neighbour is written:
 * the embed worker computes its whole context when it writes the vector, from the rows committed
 * by then (`writeVectors`). Refreshing it earlier wrote a row version, with an entry in every
 * index, that its own embedding replaced moments later; an edit that drops an episode's vector
 * likewise leaves its context to the re-embed. Figures: docs/benchmarks.md (ingest).
 */
const refreshFunction = (liveOnly: string) => `
  create or replace function mirix_refresh_episode_context(p_agents uuid[], p_ats timestamptz[], p_ids uuid[], p_anchors boolean default true)
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
      where m.memory_type = 'episodic' and m.deleted_at is null${liveOnly}
      order by m.id for update of m skip locked
    ), fresh as (
      select m.id, mirix_episode_context(m.agent_id, coalesce(m.occurred_at, m.created_at), m.id) as ctx
      from memories m join locked l on l.id = m.id
    )
    update memories m set context_tsv = f.ctx from fresh f
    where m.id = f.id and m.context_tsv is distinct from f.ctx;
  end $$;`;

export class Migration20261203150000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(refreshFunction(' and m.embedding is not null'));
  }

  override async down(): Promise<void> {
    this.addSql(refreshFunction(''));
  }
}
