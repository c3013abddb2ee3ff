import type { EntityManager } from '@mikro-orm/postgresql';
import { toSql } from 'pgvector';
import type { Logger } from 'pino';
import type { Agent } from '../agents/index.js';
import type { EmbeddingProvider } from '../embeddings/index.js';
import type { TSearchMethod, TSearchRequest } from './memory.schema.js';
import { type MemoryRecord, RECORD_COLUMNS, recordFromRow } from './memory.registry.js';
import { runNative } from '../../db/native.js';
import { MEMORY_TYPES } from './memory.types.js';
import { type FulltextQuery, hasSearchableWords, parseSearchQuery } from './search.query.js';

/**
 * Score fusion: a hit's fused score is the sum over signals of weight x (its score / the best
 * score of that signal for this query), and memories holding a quoted phrase or identifier come
 * first. The weights, and why not reciprocal-rank fusion: docs/decisions/0001-question-shaped-search.md.
 */
export const DEFAULT_FUSION_WEIGHTS: Record<TSearchMethod, number> = {
  vector: 0.05,
  fulltext: 1,
  trigram: 0.1,
};

/**
 * BM25 over PostgreSQL's tsvectors (docs/decisions/0001-question-shaped-search.md):
 * - `k1`, `b`: term-frequency saturation and length normalization;
 * - `weights`: what one occurrence counts in each tsvector weight class, in ts_rank's order
 *   {D, C, B, A}: context (neighbouring episodes, date), details/steps/content, summary/caption,
 *   name/title/event type/actor;
 * - `termCap`: at most this many memories are read per query term, so a very common word costs
 *   the same at 1k and at 1M memories (its document frequency then saturates at the cap);
 * - `sizeCap`: the agent's memory count used for IDF saturates here, for the same reason;
 * - `probe`, `walk`, `commonShare`: in an agent of `sizeCap` or more memories, a term held by at
 *   least `commonShare` of its `probe` most recent memories is common: its hits come from the
 *   `walk` most recent memories instead of the index, whose bitmap of a common term's postings
 *   grows with the agent (docs/decisions/0001-question-shaped-search.md);
 * - `rerank`: candidates (by summed IDF of the terms they hold) scored with full BM25;
 * - `actorBoost`: a memory whose actor the query names scores this much more ("When did
 *   Caroline ...": Caroline's own episodes before the ones that mention her);
 * - `exactFirst`: a candidate's preselection credit per quoted phrase or identifier it holds.
 */
export const BM25 = {
  k1: 1.2,
  b: 0.3,
  weights: [0.3, 1, 1, 1],
  termCap: 500,
  sizeCap: 5_000,
  probe: 200,
  walk: 1_000,
  commonShare: 0.02,
  rerank: 200,
  maxTerms: 32,
  actorBoost: 0.5,
  exactFirst: 1000,
} as const;

/**
 * The vector signal (docs/decisions/0002-exact-vectors.md): an agent with fewer than
 * `exactBelow` live memories is searched by an exact scan of its own rows, a larger one through
 * the HNSW index (iterative scans, hnsw.ef_search from SESSION_SETTINGS). Which path runs is decided
 * inside the statement from the agent's size, not by the planner's estimates, so a small agent in a
 * large table never goes through the shared graph, and the answer does not depend on the plan a
 * connection has cached.
 */
export const VECTOR_SEARCH = { exactBelow: 5_000 } as const;

/** Vector neighbours less similar than this are noise, not matches. */
export const MIN_VECTOR_SIMILARITY = 0.1;

/** The signals a search runs unless it names its own: the best set measured by bench:recall. */
export const DEFAULT_METHODS: TSearchMethod[] = ['vector', 'fulltext', 'trigram'];

export interface SearchHit {
  item: MemoryRecord;
  score: number;
  signals: Record<TSearchMethod, { rank: number; score: number } | null>;
}

/** The record's columns, qualified for statements that join (memories m). */
const SEARCH_COLUMNS = RECORD_COLUMNS.map((c) => `m.${c}`).join(', ');

export interface SearchQueryInput {
  agentId: string;
  userId: string;
  types: string[];
  from: Date | null;
  to: Date | null;
  /** The moment the answer is for: memories valid then. Default: now (what is true at present). */
  asOf?: Date | null;
  /** pgvector literal of the query embedding, or null to skip the vector signal. */
  vector: string | null;
  embeddingModel: string;
  /** The parsed query for the full-text signal, or null to skip it. */
  fulltext: FulltextQuery | null;
  /** Words whose memories are left out of every signal (`-word`). */
  exclude: string[];
  /** Text for the trigram signal, or null to skip it. */
  trigram: string | null;
  /** How much each signal counts in the fusion. */
  weights: Record<TSearchMethod, number>;
  /** Agents with fewer live memories get an exact vector scan (VECTOR_SEARCH.exactBelow). */
  exactBelow?: number;
  candidates: number;
  limit: number;
}

/** A statement and its bound parameters. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** One signal's hit: rank 1 is its best; `exact` counts the quoted phrases and identifiers held. */
export interface SignalRow {
  id: string;
  rank: string | number;
  score: number;
  exact: string | number;
}

/**
 * Each signal is its own statement: the vector signal and the text signals then run at the same
 * time on two pooled connections (docs/benchmarks.md). Every statement checks the agent's
 * ownership once (an InitPlan) and filters scope, soft delete, types and time inside the signal,
 * so each returns only what its caller may see. They return ids, ranks and scores; the fusion
 * happens in `fuseSignals`, and the winners' columns are fetched last (`fetchHits`).
 */
/**
 * Memories valid at a moment: at present, those not closed yet (`valid_to` unset or ahead); at
 * another moment, those begun by then (`valid_from`, else creation) and not yet closed.
 */
function validAt(asOf: Date | null, p: (v: unknown) => string): string {
  if (!asOf) return ' and (m.valid_to is null or m.valid_to > now())';
  const at = p(asOf);
  return ` and coalesce(m.valid_from, m.created_at) <= ${at} and (m.valid_to is null or m.valid_to > ${at})`;
}

function statementScope(q: SearchQueryInput) {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const agent = p(q.agentId);
  const user = p(q.userId);
  const exclude = q.exclude.length
    ? ` and not m.tsv @@ (select coalesce(string_agg(plainto_tsquery('english', mirix_search_text(w))::text, ' | '), '')::tsquery
        from unnest(${p(q.exclude)}::text[]) w where numnode(plainto_tsquery('english', mirix_search_text(w))) > 0)`
    : '';
  const scope = `exists (select 1 from agents a where a.id = ${agent} and a.owner_id = ${user} and a.deleted_at is null)
    and m.agent_id = ${agent} and m.user_id = ${user} and m.deleted_at is null and m.memory_type = any(${p(pgTextArray(q.types))}::text[])${
      q.from ? ` and coalesce(m.occurred_at, m.created_at) >= ${p(q.from)}` : ''
    }${q.to ? ` and coalesce(m.occurred_at, m.created_at) <= ${p(q.to)}` : ''}${validAt(q.asOf ?? null, p)}${exclude}`;
  // The agent's live memories, counted on the index of live rows up to what either signal needs to
  // know: the vector signal's exact-scan threshold and full text's IDF cap.
  const agentSize = `agent_size as materialized (
      select count(*) as n from (select 1 from memories m where m.agent_id = ${agent} and m.deleted_at is null
        limit ${Math.max(q.exactBelow ?? VECTOR_SEARCH.exactBelow, BM25.sizeCap)}) s
    )`;
  return { params, p, agent, scope, agentSize, k: p(q.candidates) };
}

/**
 * The vector signal: an exact scan of the agent's rows below `exactBelow` live memories, the HNSW
 * index above. Both branches are planned; a one-time filter runs one of them. "+ 0" hides the
 * distance from the HNSW index, so the small-agent branch can only be an exact scan. A stored
 * vector with no direction (all zeros) has no distance (NaN) and is left out.
 */
export function vectorStatement(q: SearchQueryInput & { vector: string }): Statement {
  const { params, p, scope, agentSize, k } = statementScope(q);
  const v = p(q.vector);
  const exactBelow = p(q.exactBelow ?? VECTOR_SEARCH.exactBelow);
  const model = p(q.embeddingModel);
  const nearest = (
    order: string,
    size: string,
  ) => `(select m.id, m.embedding <=> ${v}::vector as dist from memories m
        where ${scope} and m.embedding is not null and m.embedding_model = ${model} and ${size}
        order by ${order} limit ${k})`;
  const sql = `with ${agentSize}
    select id, row_number() over (order by dist, id) as rank, 1 - dist as score, 0 as exact from (
      ${nearest(`(m.embedding <=> ${v}::vector) + 0, m.id`, `(select n from agent_size) < ${exactBelow}`)}
      union all
      ${nearest(`m.embedding <=> ${v}::vector`, `(select n from agent_size) >= ${exactBelow}`)}
    ) s where dist <> 'NaN'::float8 and 1 - dist >= ${p(MIN_VECTOR_SIMILARITY)}
    order by rank`;
  return { sql, params };
}

/** The full-text signal (BM25, `fulltextCtes`). */
export function fulltextStatement(q: SearchQueryInput & { fulltext: FulltextQuery }): Statement {
  const { params, p, agent, scope, agentSize, k } = statementScope(q);
  const sql = `with ${agentSize}, ${fulltextCtes(q.fulltext, { agent, scope, k, p }).join(',\n')}
    select id, rank, score, exact from fulltext order by rank`;
  return { sql, params };
}

/** The trigram signal: word similarity of the query to names, titles and summaries. */
export function trigramStatement(q: SearchQueryInput & { trigram: string }): Statement {
  const { params, p, scope, k } = statementScope(q);
  const t = p(q.trigram);
  const sql = `select id, row_number() over (order by sim desc, id) as rank, sim as score, 0 as exact from (
      select m.id, word_similarity(${t}, m.trgm_text) as sim from memories m
      where ${scope} and ${t} <% m.trgm_text
      order by sim desc limit ${k}
    ) s order by rank`;
  return { sql, params };
}

export interface FusedHit {
  id: string;
  score: number;
  exact: number;
  signals: Record<TSearchMethod, { rank: number; score: number } | null>;
}

/**
 * Score fusion: weight x (score / the signal's best score), summed over signals; memories holding
 * more quoted phrases or identifiers come first; ties go to the smaller id, so the order is total.
 */
export function fuseSignals(
  bySignal: Partial<Record<TSearchMethod, SignalRow[]>>,
  weights: Record<TSearchMethod, number>,
  limit: number,
): FusedHit[] {
  const hits = new Map<string, FusedHit>();
  for (const s of ['vector', 'fulltext', 'trigram'] as const) {
    const rows = (bySignal[s] ?? []).filter((r) => Number.isFinite(Number(r.score)));
    const best = Math.max(0, ...rows.map((r) => Number(r.score)));
    for (const r of rows) {
      const hit = hits.get(r.id) ?? {
        id: r.id,
        score: 0,
        exact: 0,
        signals: { vector: null, fulltext: null, trigram: null },
      };
      hit.signals[s] = { rank: Number(r.rank), score: Number(r.score) };
      if (best > 0) hit.score += (weights[s] * Number(r.score)) / best;
      hit.exact = Math.max(hit.exact, Number(r.exact));
      hits.set(r.id, hit);
    }
  }
  return [...hits.values()]
    .sort((a, b) => b.exact - a.exact || b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, limit);
}

/** Runs a statement; the service runs them on pooled connections, the benchmark on its own. */
export type RunStatement = <T>(statement: Statement) => Promise<T[]>;

/**
 * The search itself: the vector statement on one connection while full text runs on another;
 * trigrams (for misspellings and word pieces full text cannot match) only when full text did not
 * run or found fewer than `limit` memories. Then the fusion, and one fetch of the winners' columns.
 */
export async function runFusedSearch(
  run: RunStatement,
  q: SearchQueryInput,
): Promise<{ hits: (FusedHit & { row: Record<string, unknown> })[]; methods: TSearchMethod[] }> {
  const methods = new Set<TSearchMethod>();
  const vector = q.vector
    ? (methods.add('vector'), run<SignalRow>(vectorStatement({ ...q, vector: q.vector })))
    : Promise.resolve([]);
  const text = (async () => {
    let fulltext: SignalRow[] = [];
    if (q.fulltext) {
      methods.add('fulltext');
      fulltext = await run<SignalRow>(fulltextStatement({ ...q, fulltext: q.fulltext }));
    }
    if (!q.trigram || (q.fulltext && fulltext.length >= q.limit)) return { fulltext, trigram: [] };
    methods.add('trigram');
    return { fulltext, trigram: await run<SignalRow>(trigramStatement({ ...q, trigram: q.trigram })) };
  })();
  const [vectorRows, textRows] = await Promise.all([vector, text]);
  const fused = fuseSignals({ vector: vectorRows, ...textRows }, q.weights, q.limit);
  const rows = fused.length
    ? await run<Record<string, unknown>>({
        sql: `select ${SEARCH_COLUMNS} from memories m where m.id = any($1::uuid[]) and m.user_id = $2 and m.deleted_at is null`,
        params: [fused.map((h) => h.id), q.userId],
      })
    : [];
  const byId = new Map(rows.map((r) => [r.id as string, r]));
  return {
    // A memory deleted between the signals and the fetch is simply left out.
    hits: fused.flatMap((h) => {
      const row = byId.get(h.id);
      return row ? [{ ...h, row }] : [];
    }),
    methods: (['vector', 'fulltext', 'trigram'] as const).filter((m) => methods.has(m)),
  };
}

/**
 * The full-text signal as BM25 in SQL, in bounded steps:
 * 1. `ft_terms`: the query's lexemes (the `english` configuration drops stop words and stems),
 *    the prefix term and the exact groups, each a tsquery built by PostgreSQL's own parsers;
 * 2. `ft_recent`, `ft_common`, `ft_hits`: per term, at most `termCap` of the agent's memories
 *    holding it: for a common term in a large agent, from its `walk` most recent memories (in
 *    time order); for any other, from its postings in the (agent_id, tsv) index;
 * 3. `ft_idf`: document frequency per term from those hits (a common term's: its share of the
 *    recent memories, at least the cap), against the agent's size (both saturating at their caps);
 * 4. `ft_cand`: the `rerank` memories with the most IDF among their terms;
 * 5. `fulltext`: BM25 of each candidate with the actor boost, and how many exact groups it holds
 *    (those rank first). The frequency of a
 *    term is ts_rank of that one term times pi^2/6: its occurrences weighted by field (and
 *    decaying with repetition, which ts_rank does and BM25's k1 then saturates further).
 */
function fulltextCtes(
  ft: FulltextQuery,
  { agent, scope, k, p }: { agent: string; scope: string; k: string; p: (v: unknown) => string },
): string[] {
  const words = p(ft.words);
  const prefix = ft.prefix ? p(ft.prefix) : null;
  const exact = p(ft.exact);
  const [wd, wc, wb, wa] = BM25.weights;
  const weights = `'{${wd},${wc},${wb},${wa}}'::float4[]`;
  const { k1, b } = BM25;
  return [
    `ft_terms as materialized (
      select term, tq, false as exact from (
        select l.lexeme as term, array_to_tsvector(array[l.lexeme])::text::tsquery as tq
        from unnest(to_tsvector('english', mirix_search_text(${words}))) l
        ${prefix ? `union all select '*' || ${prefix}, to_tsquery('english', ${prefix} || ':*')` : ''}
        limit ${BM25.maxTerms}
      ) t where numnode(tq) > 0
      union all
      select '"' || e, phraseto_tsquery('english', mirix_search_text(e)), true
      from unnest(${exact}::text[]) e where numnode(phraseto_tsquery('english', mirix_search_text(e))) > 0
    )`,
    // The agent's `walk` most recent live memories, each marked with whether the search's scope
    // (types, time range, exclusions) keeps it: the walk reads that many rows whatever the scope,
    // so a narrow scope makes terms look rare and sends them to the index instead.
    `ft_recent as materialized (
      select m.id, m.tsv, ${scope} as ok from (
        select m.id, m.agent_id, m.user_id, m.deleted_at, m.memory_type, m.occurred_at, m.created_at, m.valid_from, m.valid_to, m.tsv
        from memories m where m.agent_id = ${agent} and m.deleted_at is null
        order by coalesce(m.occurred_at, m.created_at) desc, m.id desc limit ${BM25.walk}
      ) m
    )`,
    `ft_common as materialized (
      select term, share, share >= ${BM25.commonShare} as common from (
        select t.term, (select count(*) from (select r.ok, r.tsv from ft_recent r limit ${BM25.probe}) r
          where r.ok and r.tsv @@ t.tq)::float8 / ${BM25.probe} as share
        from ft_terms t where (select n from agent_size) >= ${BM25.sizeCap}
      ) s
    )`,
    `ft_hits as materialized (
      select t.term, c.id from ft_terms t left join ft_common cm using (term) cross join lateral (
        (select r.id from ft_recent r where cm.common and r.ok and r.tsv @@ t.tq limit ${BM25.termCap})
        union all
        (select m.id from memories m
          where not coalesce(cm.common, false) and ${scope} and m.tsv @@ t.tq limit ${BM25.termCap})
      ) c
    )`,
    `ft_idf as materialized (
      select d.term, t.tq, t.exact, ln(1 + (greatest(n.n, f.df) - f.df + 0.5) / (f.df + 0.5)) as idf
      from (
        select h.term, count(*) as hits, cm.share, coalesce(cm.common, false) as common
        from ft_hits h left join ft_common cm using (term) group by h.term, cm.share, cm.common
      ) d join ft_terms t using (term),
        (select least(n, ${BM25.sizeCap}) as n from agent_size) n,
        lateral (select case when d.common then greatest(d.hits, ${BM25.termCap}, d.share * n.n) else d.hits end as df) f
    )`,
    `ft_cand as materialized (
      select c.id, m.tsv, m.actor, length(m.tsv) as dl from (
        select h.id, sum(case when i.exact then ${BM25.exactFirst} else i.idf end) as s
        from ft_hits h join ft_idf i using (term)
        group by h.id order by s desc, h.id limit ${BM25.rerank}
      ) c join memories m on m.id = c.id
    )`,
    `fulltext as (
      select id, row_number() over (order by exact desc, score desc, id) as rank, score, exact from (
        select c.id, x.exact, x.bm25 * (case when c.actor is not null
            and to_tsvector('english', mirix_search_text(c.actor)) @@ a.terms then ${1 + BM25.actorBoost} else 1 end) as score
        from ft_cand c, (
          select (select greatest(avg(dl), 1) from ft_cand) as avgdl,
            (select coalesce(string_agg(tq::text, ' | ') filter (where not exact), '')::tsquery from ft_terms) as terms
        ) a cross join lateral (
          select count(*) filter (where i.exact) as exact,
            coalesce(sum(i.idf * f.tf * ${k1 + 1} / (f.tf + ${k1} * (1 - ${b} + ${b} * c.dl / a.avgdl))) filter (where not i.exact), 0) as bm25
          from ft_idf i cross join lateral (select ts_rank(${weights}, c.tsv, i.tq, 0) * 1.6449341 as tf) f
          where c.tsv @@ i.tq
        ) x
        order by x.exact desc, score desc, c.id limit ${k}
      ) s
    )`,
  ];
}

/** A text[] literal, for known enum values only. */
function pgTextArray(values: string[]): string {
  return `{${values.join(',')}}`;
}

export interface SearchDeps {
  embeddings: EmbeddingProvider;
  log: Logger;
  /** Fusion weights (DEFAULT_FUSION_WEIGHTS unless given). */
  weights?: Record<TSearchMethod, number>;
}

export interface SearchOptions {
  /** An agent the caller has resolved as the actor's (getOwnedAgent): search reads only its memories. */
  agent: Agent;
  input: TSearchRequest;
  deps: SearchDeps;
}

/**
 * Hybrid search over an owned agent's memories. A failing embedding provider degrades the search
 * to the text signals instead of failing it; `methods` in the result says what actually ran.
 */
export async function searchMemories(
  em: EntityManager,
  { agent, input, deps }: SearchOptions,
): Promise<{ hits: SearchHit[]; methods: TSearchMethod[] }> {
  const types = input.types ?? [...MEMORY_TYPES];
  const query = input.query.trim();

  if (!query) {
    const params: unknown[] = [agent.id, agent.owner.id, pgTextArray(types)];
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
       ${from} ${to}${validAt(input.asOf ?? null, p)}
       order by coalesce(m.occurred_at, m.created_at) desc, m.id desc limit ${p(input.limit)}`,
      params,
    );
    return {
      hits: rows.map((r) => ({
        item: recordFromRow(r),
        score: 0,
        signals: { vector: null, fulltext: null, trigram: null },
      })),
      methods: [],
    };
  }

  const wanted = new Set(input.methods ?? DEFAULT_METHODS);
  const parsed = parseSearchQuery(query);
  // Stop words and punctuation alone give full text nothing to look for: such a query is
  // matched by trigrams instead of silently finding nothing.
  if (wanted.has('fulltext') && !hasSearchableWords(parsed)) {
    wanted.delete('fulltext');
    wanted.add('trigram');
  }
  let vector: string | null = null;
  if (wanted.has('vector')) {
    try {
      const [embedding] = await deps.embeddings.embed([query]);
      // A text with no features (punctuation only) embeds to zeros: no direction to compare.
      vector = embedding?.some((x) => x !== 0) ? (toSql(embedding) as string) : null;
    } catch (err) {
      deps.log.warn({ err }, 'query embedding failed; searching with the text signals only');
    }
    if (!vector) wanted.delete('vector');
  }
  if (wanted.size === 0) return { hits: [], methods: [] };

  const result = await runFusedSearch((st) => runNative(em, st.sql, st.params), {
    agentId: agent.id,
    userId: agent.owner.id,
    types,
    from: input.timeRange?.from ?? null,
    to: input.timeRange?.to ?? null,
    asOf: input.asOf ?? null,
    vector,
    embeddingModel: deps.embeddings.model,
    fulltext: wanted.has('fulltext') ? parsed : null,
    exclude: parsed.exclude,
    trigram: wanted.has('trigram') ? query.slice(0, 200) : null,
    weights: deps.weights ?? DEFAULT_FUSION_WEIGHTS,
    candidates: Math.max(40, input.limit * 2),
    limit: input.limit,
  });
  return {
    hits: result.hits.map((h) => ({ item: recordFromRow(h.row), score: h.score, signals: h.signals })),
    methods: result.methods,
  };
}
