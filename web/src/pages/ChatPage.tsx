import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Link } from 'wouter';
import { Empty, ErrorNote, errorText, Loading } from '../components/States.js';
import { useTRPC, useTRPCClient } from '../trpc.js';

interface UsedMemory {
  id: string;
  type: string;
  title: string;
}

interface Turn {
  key: number;
  user: string;
  assistant: string;
  phase: 'thinking' | 'streaming' | 'done' | 'error' | 'stopped';
  memories: UsedMemory[] | null;
  error?: string;
}

const TYPE_LABEL: Record<string, string> = {
  episodic: 'Episodic',
  semantic: 'Semantic',
  procedural: 'Procedural',
  resource: 'Resource',
  knowledge_vault: 'Vault',
};

function Memories({ items }: { items: UsedMemory[] }) {
  if (items.length === 0) return <p className="muted small">No memories were used for this reply.</p>;
  return (
    <details className="memories">
      <summary>
        {items.length} {items.length === 1 ? 'memory' : 'memories'} used
      </summary>
      <ul>
        {items.map((m) => (
          <li key={m.id}>
            <span className={`tag tag-${m.type}`}>{TYPE_LABEL[m.type] ?? m.type}</span> {m.title}
          </li>
        ))}
      </ul>
    </details>
  );
}

export function ChatPage({ agentId }: { agentId: string }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const agent = useQuery(trpc.agents.get.queryOptions({ id: agentId }));
  // The latest page first; "Show earlier messages" walks back. Turns sent here are kept in `turns`.
  const history = useInfiniteQuery(
    trpc.messages.list.infiniteQueryOptions(
      { agentId, limit: 50, order: 'newest' },
      { getNextPageParam: (page) => page.nextCursor, staleTime: Infinity },
    ),
  );
  const earlier = (history.data?.pages ?? []).flatMap((p) => p.items).reverse();
  const [turns, setTurns] = useState<Turn[]>([]);
  const [draft, setDraft] = useState('');
  const stop = useRef<(() => void) | null>(null);
  const end = useRef<HTMLDivElement>(null);
  const busy = turns.some((t) => t.phase === 'thinking' || t.phase === 'streaming');

  useEffect(() => () => stop.current?.(), []);
  useEffect(() => {
    // Braces: scrollIntoView returns a promise in newer browsers, and an effect may return only a cleanup.
    void end.current?.scrollIntoView({ block: 'end' });
  }, [turns]);

  const update = (key: number, change: (t: Turn) => Partial<Turn>) =>
    setTurns((all) => all.map((t) => (t.key === key ? { ...t, ...change(t) } : t)));

  const send = (e: FormEvent) => {
    e.preventDefault();
    const message = draft.trim();
    if (!message || busy) return;
    const key = Date.now();
    setTurns((all) => [...all, { key, user: message, assistant: '', phase: 'thinking', memories: null }]);
    setDraft('');
    const subscription = client.chat.stream.subscribe(
      { agentId, message },
      {
        onData: (event) => {
          switch (event.type) {
            case 'memories':
              update(key, () => ({ memories: event.items }));
              break;
            case 'content':
              update(key, (t) => ({ phase: 'streaming', assistant: t.assistant + event.delta }));
              break;
            case 'complete':
              update(key, () => ({ phase: 'done', assistant: event.message }));
              stop.current = null;
              subscription.unsubscribe();
              break;
            case 'error':
              update(key, () => ({ phase: 'error', error: event.message }));
              stop.current = null;
              subscription.unsubscribe();
              break;
            case 'start':
            case 'thinking':
              break;
          }
        },
        onError: (err) => {
          update(key, () => ({ phase: 'error', error: errorText(err) }));
          stop.current = null;
        },
      },
    );
    stop.current = () => {
      subscription.unsubscribe();
      update(key, () => ({ phase: 'stopped' }));
      stop.current = null;
    };
  };

  return (
    <>
      <p className="crumbs">
        <Link href="/agents">Agents</Link> / {agent.data?.name ?? '…'} ·{' '}
        <Link href={`/agents/${agentId}/memory`}>Memory</Link> ·{' '}
        <Link href={`/agents/${agentId}/activity`}>Activity</Link>
      </p>
      <h1>Chat{agent.data ? ` with ${agent.data.name}` : ''}</h1>
      <ErrorNote error={agent.error} />
      <section className="chat" aria-label="Conversation">
        {history.isPending ? (
          <Loading what="the conversation" />
        ) : history.error ? (
          <ErrorNote error={history.error} />
        ) : earlier.length === 0 && turns.length === 0 ? (
          <Empty>No messages yet. Say hello: the agent answers with what it remembers.</Empty>
        ) : null}
        {history.hasNextPage && (
          <button
            type="button"
            className="secondary earlier"
            onClick={() => void history.fetchNextPage()}
            disabled={history.isFetchingNextPage}
          >
            {history.isFetchingNextPage ? 'Loading…' : 'Show earlier messages'}
          </button>
        )}
        {earlier.map((m) => (
          <article key={m.id} className={`bubble ${m.role}`}>
            <p>{m.content}</p>
            {m.status !== 'complete' && <p className="muted small">({m.status})</p>}
            {m.role === 'assistant' && m.status === 'complete' && <Memories items={m.memoriesUsed} />}
          </article>
        ))}
        {turns.map((t) => (
          <div key={t.key} className="turn">
            <article className="bubble user">
              <p>{t.user}</p>
            </article>
            <article
              className="bubble assistant"
              aria-live="polite"
              aria-busy={t.phase === 'thinking' || t.phase === 'streaming'}
            >
              {t.phase === 'thinking' && (
                <p className="thinking" role="status">
                  Thinking…
                </p>
              )}
              {t.assistant && <p data-testid="reply">{t.assistant}</p>}
              {t.phase === 'stopped' && <p className="muted small">(stopped)</p>}
              {t.phase === 'error' && (
                <p className="error" role="alert">
                  {t.error}
                </p>
              )}
              {t.memories && <Memories items={t.memories} />}
            </article>
          </div>
        ))}
        <div ref={end} />
      </section>
      <form className="composer" onSubmit={send} aria-label="Send a message">
        <label className="sr-only" htmlFor="message">
          Message
        </label>
        <textarea
          id="message"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) send(e);
          }}
          placeholder="Message (Enter to send, Shift+Enter for a new line)"
          rows={2}
        />
        {busy ? (
          <button type="button" className="danger" onClick={() => stop.current?.()}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={!draft.trim()}>
            Send
          </button>
        )}
      </form>
    </>
  );
}
