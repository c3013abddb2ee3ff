import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { Link } from 'wouter';
import { QueryView } from '../components/States.js';
import { useTRPC } from '../trpc.js';

export function ActivityPage({ agentId }: { agentId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const agent = useQuery(trpc.agents.get.queryOptions({ id: agentId }));
  const jobs = useQuery(trpc.memory.jobs.queryOptions({ agentId, limit: 50 }));
  const usage = useQuery(trpc.memory.usage.queryOptions({ agentId }));
  useSubscription(
    trpc.memory.events.subscriptionOptions(
      { agentId },
      {
        onData: () => {
          void queryClient.invalidateQueries(trpc.memory.jobs.pathFilter());
          void queryClient.invalidateQueries(trpc.memory.usage.pathFilter());
        },
      },
    ),
  );

  return (
    <>
      <p className="crumbs">
        <Link href="/agents">Agents</Link> / {agent.data?.name ?? '…'} ·{' '}
        <Link href={`/agents/${agentId}/chat`}>Chat</Link> ·{' '}
        <Link href={`/agents/${agentId}/memory`}>Memory</Link>
      </p>
      <h1>Consolidation activity</h1>
      {usage.data && (
        <p className="muted">
          {usage.data.jobs} job(s): {usage.data.completed} completed, {usage.data.failed} failed ·{' '}
          {usage.data.llmCalls} LLM call(s), {usage.data.totalTokens} tokens
        </p>
      )}
      <QueryView
        query={jobs}
        what="jobs"
        isEmpty={(data) => data.items.length === 0}
        empty={<>No consolidation jobs yet: they start after each chat turn, or from memory.ingest.</>}
      >
        {(data) => (
          <div className="table-wrap">
            <table aria-label="Recent consolidation jobs">
              <thead>
                <tr>
                  <th scope="col">Queued</th>
                  <th scope="col">Source</th>
                  <th scope="col">Status</th>
                  <th scope="col">Changes</th>
                  <th scope="col">Tokens</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((j) => (
                  <tr key={j.jobId}>
                    <td>{j.createdAt.toLocaleString()}</td>
                    <td>{j.source}</td>
                    <td>
                      <span className={`status status-${j.status}`}>{j.status}</span>
                      {j.attempts > 1 && <span className="muted"> ({j.attempts} attempts)</span>}
                    </td>
                    <td>
                      {j.changes.length === 0
                        ? '–'
                        : j.changes.map((c) => (
                            <div key={`${c.itemId}-${c.operation}`}>
                              {c.operation} {c.memoryType}: {c.label}
                            </div>
                          ))}
                    </td>
                    <td>{j.usage.totalTokens}</td>
                    <td>{j.error ? `${j.error.code}: ${j.error.message}` : '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
    </>
  );
}
