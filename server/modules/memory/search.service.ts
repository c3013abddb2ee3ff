import type { EntityManager } from '@mikro-orm/postgresql';
import { toSql } from 'pgvector';
import type { Logger } from 'pino';
import { getOwnedAgent } from '../agents/agent.service.js';
import type { EmbeddingProvider } from '../embeddings/embedding.provider.js';
import type { User } from '../users/user.entity.js';
import type { TSearchMethod, TSearchRequest } from './memory.schema.js';
import { type MemoryRecord, recordFromRow } from './memory.registry.js';
import { runNative } from '../../db/native.js';
import { MEMORY_TYPES } from './memory.types.js';

/** Reciprocal rank fusion constant (the usual 60: later ranks still count, but less). */
export const RRF_K = 60;
/** At most this many full-text matches are ranked per query (see buildFusedQuery). */
export const FULLTEXT_RANK_CAP = 1000;
/** Vector neighbours less similar than this are noise, not matches. */
export const MIN_VECTOR_SIMILARITY = 0.1;

export interface SearchHit {
  item: MemoryRecord;
  score: number;
  signals: Record<TSearchMethod, { rank: number; score: number } | null>;
}

/** Every column but the heavy or secret ones (embedding, resource content, ciphertext, tsv). */
export const SEARCH_COLUMNS = [
  'id',
  'created_at',
  'updated_at',
  'agent_id',
  'user_id',
  'memory_type',
  'deleted_at',
  'last_modified',
  'embedding_model',
  'occurred_at',
  'event_type',
  'actor',
  'summary',
  'details',
  'name',
  'source',
  'entry_type',
  'steps',
  'title',
  'resource_type',
  'sensitivity',
  'secret_key_id',
  'caption',
]
  .map((c) => `m.${c}`)
  .join(', ');

export interface FusedQueryInput {
  agentId: string;
  userId: string;
  types: string[];
  from: Date | null;
  to: Date | null;
  /** pgvector literal of the query embedding, or null to skip the vector signal. */
  vector: string | null;
  embeddingModel: string;
  /** Text for the full-text signal, or null to skip it. */
  fulltext: string | null;
  /** A `word:*` prefix term for the last word typed, or null. */
  prefix: string | null;
  /** Text for the trigram signal, or null to skip it. */
  trigram: string | null;
  candidates: number;
  limit: number;
}

/**
 * One SQL statement: each enabled signal takes its bounded top-k inside the agent's live items
 * (scope, soft delete, types and time filtered inside every signal), then reciprocal-rank fusion.
 * Exported so the benchmark can time the same statement without the API around it.
 */
export function buildFusedQuery(q: FusedQueryInput): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const agent = p(q.agentId);
  const user = p(q.userId);
  // The agent must be the user's and live: checked once per statement (an InitPlan), so search
  // needs no separate ownership query.
  const scope = `exists (select 1 from agents a where a.id = ${agent} and a.owner_id = ${user} and a.deleted_at is null)
    and m.agent_id = ${agent} and m.user_id = ${user} and m.deleted_at is null and m.memory_type = any(${p(pgTextArray(q.types))}::text[])${
      q.from ? ` and coalesce(m.occurred_at, m.created_at) >= ${p(q.from)}` : ''
    }${q.to ? ` and coalesce(m.occurred_at, m.created_at) <= ${p(q.to)}` : ''}`;
  const k = p(q.candidates);

  const ctes: string[] = [];
  const signals: TSearchMethod[] = [];
  if (q.vector) {
    const v = p(q.vector);
    ctes.push(`vector as (
      select id, row_number() over (order by dist, id) as rank, 1 - dist as score from (
        select m.id, m.embedding <=> ${v}::vector as dist from memories m
        where ${scope} and m.embedding is not null and m.embedding_model = ${p(q.embeddingModel)}
        order by dist limit ${k}
      ) s where 1 - dist >= ${p(MIN_VECTOR_SIMILARITY)})`);
    signals.push('vector');
  }
  if (q.fulltext) {
    const tsq = q.prefix
      ? `(websearch_to_tsquery('english', ${p(q.fulltext)}) || to_tsquery('english', ${p(q.prefix)}))`
      : `websearch_to_tsquery('english', ${p(q.fulltext)})`;
    // Ranking costs a heap read per matching row: a very common term is ranked among at most
    // FULLTEXT_RANK_CAP matches (the other signals still see every row). `offset 0` keeps the
    // tsquery built once per search: without it the planner inlines it into the per-row filter, and
    // the generic plan a prepared statement moves to after five runs builds it again for every row
    // (three times slower on 200 matching rows).
    ctes.push(`fulltext as (
      select id, row_number() over (order by r desc, id) as rank, r as score from (
        select c.id, ts_rank_cd(c.tsv, c.q) as r from (
          select m.id, m.tsv, tq.q from memories m, (select ${tsq} as q offset 0) tq
          where ${scope} and m.tsv @@ tq.q
          limit ${p(FULLTEXT_RANK_CAP)}
        ) c
        order by r desc limit ${k}
      ) s)`);
    signals.push('fulltext');
  }
  if (q.trigram) {
    const t = p(q.trigram);
    ctes.push(`trigram as (
      select id, row_number() over (order by sim desc, id) as rank, sim as score from (
        select m.id, word_similarity(${t}, m.trgm_text) as sim from memories m
        where ${scope} and ${t} <% m.trgm_text
        order by sim desc limit ${k}
      ) s)`);
    signals.push('trigram');
  }
  if (signals.length === 0) throw new Error('buildFusedQuery needs at least one signal');

  const union = signals.map((s) => `select id, rank from ${s}`).join(' union all ');
  const explain = (['vector', 'fulltext', 'trigram'] as const)
    .map((s) =>
      signals.includes(s)
        ? `${s}.rank as ${s}_rank, ${s}.score as ${s}_score`
        : `null as ${s}_rank, null as ${s}_score`,
    )
    .join(', ');
  const joins = signals.map((s) => `left join ${s} on ${s}.id = f.id`).join(' ');
  const sql = `with ${ctes.join(',\n')},
    fused as (
      select id, sum(1.0 / (${RRF_K} + rank)) as rrf from (${union}) u
      group by id order by rrf desc, id limit ${p(q.limit)}
    )
    select ${SEARCH_COLUMNS}, f.rrf, ${explain}
    from fused f join memories m on m.id = f.id ${joins}
    order by f.rrf desc, m.id`;
  return { sql, params };
}

/** The last word of a query as a prefix term (`kube:*`), if it is a plain word. */
export function prefixTerm(query: string): string | null {
  const last = /([\p{L}\p{N}]{2,})$/u.exec(query.trim())?.[1];
  return last ? `${last.toLowerCase()}:*` : null;
}

/** A text[] literal, for known enum values only. */
function pgTextArray(values: string[]): string {
  return `{${values.join(',')}}`;
}

type Row = Record<string, unknown> & {
  rrf: string | number;
  vector_rank: string | number | null;
  vector_score: number | null;
  fulltext_rank: string | number | null;
  fulltext_score: number | null;
  trigram_rank: string | number | null;
  trigram_score: number | null;
};

const signal = (rank: unknown, score: unknown) =>
  rank === null || rank === undefined ? null : { rank: Number(rank), score: Number(score) };

export interface SearchDeps {
  embeddings: EmbeddingProvider;
  log: Logger;
}

/**
 * Hybrid search over an agent's memories. A failing embedding provider degrades the search to
 * the text signals instead of failing it; `methods` in the result says what actually ran.
 */
export async function searchMemories(
  em: EntityManager,
  actor: User,
  deps: SearchDeps,
  input: TSearchRequest,
  opts: { agentChecked?: boolean } = {},
): Promise<{ hits: SearchHit[]; methods: TSearchMethod[] }> {
  const types = input.types ?? [...MEMORY_TYPES];
  // Ownership is enforced inside the search statements; only an empty result needs the check
  // that tells "no matches" from "no such agent" (unless the caller has just made it).
  const ensureAgent = async <T>(hits: T[]) => {
    if (hits.length === 0 && !opts.agentChecked) await getOwnedAgent(em, actor, input.agentId);
    return hits;
  };
  const query = input.query.trim();

  if (!query) {
    const params: unknown[] = [input.agentId, actor.id, pgTextArray(types)];
    const p = (value: unknown) => `$${params.push(value)}`;
    const from = input.timeRange?.from
      ? `and coalesce(m.occurred_at, m.created_at) >= ${p(input.timeRange.from)}`
      : '';
    const to = input.timeRange?.to
      ? `and coalesce(m.occurred_at, m.created_at) <= ${p(input.timeRange.to)}`
      : '';
    const rows = await runNative<Record<string, unknown>>(
      em,
      `select ${SEARCH_COLUMNS} from memories m
       where m.agent_id = $1 and m.user_id = $2 and m.deleted_at is null and m.memory_type = any($3::text[])
       and exists (select 1 from agents a where a.id = m.agent_id and a.deleted_at is null)
       ${from} ${to}
       order by coalesce(m.occurred_at, m.created_at) desc, m.id desc limit ${p(input.limit)}`,
      params,
    );
    return {
      hits: await ensureAgent(
        rows.map((r) => ({
          item: recordFromRow(r),
          score: 0,
          signals: { vector: null, fulltext: null, trigram: null },
        })),
      ),
      methods: [],
    };
  }

  const wanted = new Set(input.methods ?? ['vector', 'fulltext', 'trigram']);
  let vector: string | null = null;
  if (wanted.has('vector')) {
    try {
      const [embedding] = await deps.embeddings.embed([query]);
      vector = embedding ? (toSql(embedding) as string) : null;
    } catch (err) {
      deps.log.warn({ err }, 'query embedding failed; searching with the text signals only');
      wanted.delete('vector');
    }
  }
  if (wanted.size === 0 || (wanted.size === 1 && wanted.has('vector') && !vector)) {
    return { hits: await ensureAgent([]), methods: [] };
  }

  const { sql, params } = buildFusedQuery({
    agentId: input.agentId,
    userId: actor.id,
    types,
    from: input.timeRange?.from ?? null,
    to: input.timeRange?.to ?? null,
    vector,
    embeddingModel: deps.embeddings.model,
    fulltext: wanted.has('fulltext') ? query : null,
    prefix: wanted.has('fulltext') ? prefixTerm(query) : null,
    trigram: wanted.has('trigram') ? query.slice(0, 200) : null,
    candidates: Math.max(40, input.limit * 2),
    limit: input.limit,
  });
  const rows = await runNative<Row>(em, sql, params);
  return {
    hits: await ensureAgent(
      rows.map((r) => ({
        item: recordFromRow(r),
        score: Number(r.rrf),
        signals: {
          vector: signal(r.vector_rank, r.vector_score),
          fulltext: signal(r.fulltext_rank, r.fulltext_score),
          trigram: signal(r.trigram_rank, r.trigram_score),
        },
      })),
    ),
    methods: (['vector', 'fulltext', 'trigram'] as const).filter((m) =>
      m === 'vector' ? !!vector : wanted.has(m),
    ),
  };
}
