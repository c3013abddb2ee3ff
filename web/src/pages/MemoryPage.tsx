import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'wouter';
import { Empty, ErrorNote, QueryView, Field, Loading } from '../components/States.js';
import { memoryTitle } from '../../../shared/memory-title.js';
import { type RouterOutputs, useTRPC, useTRPCClient } from '../trpc.js';

type Summary = RouterOutputs['memory']['semantic']['list']['items'][number];
type ListType = 'episodic' | 'semantic' | 'procedural' | 'resource' | 'vault';
type Tab = 'core' | ListType | 'search';

const TABS: { id: Tab; label: string }[] = [
  { id: 'core', label: 'Core' },
  { id: 'episodic', label: 'Episodic' },
  { id: 'semantic', label: 'Semantic' },
  { id: 'procedural', label: 'Procedural' },
  { id: 'resource', label: 'Resource' },
  { id: 'vault', label: 'Knowledge vault' },
  { id: 'search', label: 'Search' },
];

/** The fields a person edits, per type (the API takes partial updates). */
const EDITABLE: Record<ListType, string[]> = {
  episodic: ['summary', 'details'],
  semantic: ['name', 'summary', 'details'],
  procedural: ['summary'],
  resource: ['title', 'summary'],
  vault: ['caption'],
};

function detailOf(item: Summary): string {
  switch (item.type) {
    case 'episodic':
      return `${item.occurredAt.toLocaleString()} · ${item.eventType} · ${item.actor}${item.details ? ` · ${item.details}` : ''}`;
    case 'semantic':
      return item.summary + (item.details ? ` · ${item.details}` : '');
    case 'procedural':
      return `${item.entryType}: ${item.steps.map((s, i) => `${i + 1}. ${s}`).join(' ')}`;
    case 'resource':
      return `${item.resourceType} · ${item.summary}`;
    case 'knowledge_vault':
      return `${item.entryType} · ${item.sensitivity} sensitivity${item.source ? ` · ${item.source}` : ''}`;
  }
}

function History({ agentId, itemId }: { agentId: string; itemId: string }) {
  const trpc = useTRPC();
  const history = useQuery(trpc.memory.history.queryOptions({ agentId, itemId }));
  if (history.isPending) return <Loading what="history" />;
  if (history.error) return <ErrorNote error={history.error} />;
  if (history.data.length === 0) return <Empty>No recorded changes.</Empty>;
  return (
    <ol className="history" aria-label="History">
      {history.data.map((h) => {
        const changed = Object.keys({ ...h.before, ...h.after }).filter(
          (k) => JSON.stringify(h.before?.[k]) !== JSON.stringify(h.after?.[k]),
        );
        return (
          <li key={h.id}>
            <strong>{h.operation}</strong> by {h.actor} · {h.createdAt.toLocaleString()}
            {h.jobId && <span className="muted"> · job {h.jobId.slice(0, 8)}</span>}
            {changed.length > 0 && <span className="muted"> · {changed.join(', ')}</span>}
          </li>
        );
      })}
    </ol>
  );
}

function VaultValue({ agentId, id }: { agentId: string; id: string }) {
  const trpc = useTRPC();
  const reveal = useMutation(trpc.memory.vault.reveal.mutationOptions());
  const [shown, setShown] = useState(false);
  return (
    <span className="secret">
      <code aria-label="Secret value">{shown && reveal.data ? reveal.data.secretValue : '••••••••'}</code>{' '}
      {shown ? (
        <button type="button" className="link" onClick={() => (setShown(false), reveal.reset())}>
          Hide
        </button>
      ) : (
        <button
          type="button"
          className="link"
          onClick={() => (setShown(true), reveal.mutate({ agentId, id }))}
        >
          Reveal
        </button>
      )}
      <ErrorNote error={reveal.error} />
    </span>
  );
}

function ItemRow({ agentId, type, item }: { agentId: string; type: ListType; item: Summary }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Record<string, string> | null>(null);
  const [showHistory, setShowHistory] = useState(false);
  const refresh = () => queryClient.invalidateQueries(trpc.memory.pathFilter());
  const api = trpc.memory[type];
  // Each type's update takes that type's fields; the form only holds fields of this row's type.
  const updateOf = client.memory[type].update.mutate as (input: Record<string, unknown>) => Promise<unknown>;
  const update = useMutation({
    mutationFn: (input: Record<string, unknown>) => updateOf(input),
    onSuccess: () => (setEditing(null), refresh()),
  });
  const remove = useMutation(api.delete.mutationOptions({ onSuccess: refresh }));
  const values = item as unknown as Record<string, unknown>;

  const save = (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    update.mutate({ agentId, id: item.id, ...editing });
  };

  return (
    <li className="card item" aria-label={memoryTitle(item)}>
      <div className="row">
        <div>
          <h3>{memoryTitle(item)}</h3>
          <p className="muted">{detailOf(item)}</p>
          {item.type === 'knowledge_vault' && <VaultValue agentId={agentId} id={item.id} />}
        </div>
        <div className="actions">
          <button
            type="button"
            className="secondary"
            onClick={() =>
              setEditing(
                editing
                  ? null
                  : Object.fromEntries(
                      EDITABLE[type].map((f) => [f, typeof values[f] === 'string' ? values[f] : '']),
                    ),
              )
            }
          >
            Edit
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => setShowHistory(!showHistory)}
            aria-expanded={showHistory}
          >
            History
          </button>
          <button type="button" className="danger" onClick={() => remove.mutate({ agentId, id: item.id })}>
            Delete
          </button>
        </div>
      </div>
      {editing && (
        <form onSubmit={save} aria-label={`Edit ${memoryTitle(item)}`}>
          {Object.entries(editing).map(([field, value]) => (
            <Field key={field} label={field}>
              <textarea
                value={value}
                rows={2}
                onChange={(e) => setEditing({ ...editing, [field]: e.target.value })}
              />
            </Field>
          ))}
          <ErrorNote error={update.error} />
          <button type="submit" disabled={update.isPending}>
            Save
          </button>
        </form>
      )}
      <ErrorNote error={remove.error} />
      {showHistory && <History agentId={agentId} itemId={item.id} />}
    </li>
  );
}

function TypeList({ agentId, type }: { agentId: string; type: ListType }) {
  const trpc = useTRPC();
  const [contains, setContains] = useState('');
  const pages = useInfiniteQuery(
    trpc.memory[type].list.infiniteQueryOptions(
      { agentId, limit: 50, ...(contains.trim() ? { contains: contains.trim() } : {}) },
      { getNextPageParam: (page) => page.nextCursor },
    ),
  );
  const list = { ...pages, data: pages.data && { items: pages.data.pages.flatMap((p) => p.items) } };
  return (
    <>
      <Field label="Filter">
        <input
          type="search"
          value={contains}
          onChange={(e) => setContains(e.target.value)}
          placeholder="Contains…"
        />
      </Field>
      <QueryView
        query={list}
        what="memories"
        isEmpty={(data) => data.items.length === 0}
        empty={contains ? 'Nothing matches this filter.' : 'No memories of this type yet.'}
      >
        {(data) => (
          <>
            <ul className="list">
              {data.items.map((item) => (
                <ItemRow key={item.id} agentId={agentId} type={type} item={item} />
              ))}
            </ul>
            {pages.hasNextPage && (
              <button
                type="button"
                className="secondary"
                onClick={() => void pages.fetchNextPage()}
                disabled={pages.isFetchingNextPage}
              >
                {pages.isFetchingNextPage ? 'Loading…' : 'Show more'}
              </button>
            )}
          </>
        )}
      </QueryView>
    </>
  );
}

function CoreBlocks({ agentId }: { agentId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const blocks = useQuery(trpc.memory.core.get.queryOptions({ agentId }));
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const set = useMutation(
    trpc.memory.core.set.mutationOptions({
      onSuccess: (block) => {
        setDrafts(({ [block.label]: _, ...rest }) => rest);
        return queryClient.invalidateQueries(trpc.memory.core.pathFilter());
      },
    }),
  );
  if (blocks.isPending) return <Loading what="core memory" />;
  if (blocks.error) return <ErrorNote error={blocks.error} />;
  return (
    <ul className="list">
      {blocks.data.map((b) => {
        const value = drafts[b.label] ?? b.value;
        const over = value.length > b.limit;
        return (
          <li key={b.label} className="card">
            <form
              onSubmit={(e) => {
                e.preventDefault();
                set.mutate({ agentId, label: b.label, value });
              }}
              aria-label={`Core block ${b.label}`}
            >
              <Field
                label={`Core block: ${b.label}`}
                hint={
                  <span className={over ? 'over' : undefined} aria-live="polite">
                    {value.length} / {b.limit} characters
                    {over ? ` (${value.length - b.limit} over the limit)` : ''}
                  </span>
                }
              >
                <textarea
                  value={value}
                  rows={4}
                  onChange={(e) => setDrafts({ ...drafts, [b.label]: e.target.value })}
                />
              </Field>
              {set.variables?.label === b.label && <ErrorNote error={set.error} />}
              <button type="submit" disabled={drafts[b.label] === undefined || set.isPending}>
                Save {b.label}
              </button>
            </form>
          </li>
        );
      })}
    </ul>
  );
}

function Search({ agentId }: { agentId: string }) {
  const trpc = useTRPC();
  const [draft, setDraft] = useState('');
  const [query, setQuery] = useState<string | null>(null);
  const results = useQuery({
    ...trpc.memory.search.queryOptions({ agentId, query: query ?? '', explain: true, limit: 20 }),
    enabled: query !== null,
  });
  const signal = (s: { rank: number; score: number } | null | undefined) =>
    s ? `#${s.rank} (${s.score.toFixed(3)})` : '–';
  return (
    <>
      <form
        className="inline"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(draft);
        }}
      >
        <Field label="Search memories">
          <input type="search" value={draft} onChange={(e) => setDraft(e.target.value)} />
        </Field>
        <button type="submit">Search</button>
      </form>
      {query !== null && (
        <QueryView
          query={results}
          what="results"
          isEmpty={(data) => data.items.length === 0}
          empty={<>No memory matches “{query}”.</>}
        >
          {(data) => (
            <div className="table-wrap">
              <table aria-label="Search results">
                <caption>
                  Fused ranking (reciprocal rank fusion) over {data.methods.join(', ')}; per signal: rank
                  (score)
                </caption>
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">Type</th>
                    <th scope="col">Memory</th>
                    <th scope="col">Score</th>
                    <th scope="col">Vector</th>
                    <th scope="col">Full text</th>
                    <th scope="col">Trigram</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((hit, i) => (
                    <tr key={hit.item.id}>
                      <td>{i + 1}</td>
                      <td>
                        <span className={`tag tag-${hit.item.type}`}>{hit.item.type}</span>
                      </td>
                      <td>{memoryTitle(hit.item)}</td>
                      <td>{hit.score.toFixed(4)}</td>
                      <td>{signal(hit.explain?.vector)}</td>
                      <td>{signal(hit.explain?.fulltext)}</td>
                      <td>{signal(hit.explain?.trigram)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
      )}
    </>
  );
}

export function MemoryPage({ agentId }: { agentId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const agent = useQuery(trpc.agents.get.queryOptions({ id: agentId }));
  const [tab, setTab] = useState<Tab>('core');
  const [notice, setNotice] = useState<string | null>(null);
  // Live: when a consolidation job completes, what it changed is fetched again.
  useSubscription(
    trpc.memory.events.subscriptionOptions(
      { agentId },
      {
        onData: (event) => {
          if (event.type !== 'completed') return;
          setNotice(
            `Memory managers made ${event.changes.length} change(s) (job ${event.jobId.slice(0, 8)}).`,
          );
          void queryClient.invalidateQueries(trpc.memory.pathFilter());
        },
      },
    ),
  );

  return (
    <>
      <p className="crumbs">
        <Link href="/agents">Agents</Link> / {agent.data?.name ?? '…'} ·{' '}
        <Link href={`/agents/${agentId}/chat`}>Chat</Link> ·{' '}
        <Link href={`/agents/${agentId}/activity`}>Activity</Link>
      </p>
      <h1>Memory{agent.data ? ` of ${agent.data.name}` : ''}</h1>
      <ErrorNote error={agent.error} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <div role="tablist" aria-label="Memory types" className="tabs">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls="memory-panel"
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <section id="memory-panel" role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {tab === 'core' ? (
          <CoreBlocks agentId={agentId} />
        ) : tab === 'search' ? (
          <Search agentId={agentId} />
        ) : (
          <TypeList key={tab} agentId={agentId} type={tab} />
        )}
      </section>
    </>
  );
}
