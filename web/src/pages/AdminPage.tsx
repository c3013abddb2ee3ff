import { useQuery } from '@tanstack/react-query';
import { ErrorNote, Loading, QueryView } from '../components/States.js';
import { useTRPC } from '../trpc.js';

export function AdminPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const users = useQuery({
    ...trpc.admin.listUsers.queryOptions({ limit: 200 }),
    enabled: !!me.data?.isSuperuser,
  });
  const agents = useQuery({
    ...trpc.admin.listAgents.queryOptions({ limit: 100 }),
    enabled: !!me.data?.isSuperuser,
  });
  if (me.isPending) return <Loading what="your account" />;
  if (!me.data?.isSuperuser) return <ErrorNote error={new Error('The admin pages are for superusers.')} />;
  const owner = new Map(users.data?.items.map((u) => [u.id, u.username]));

  return (
    <>
      <h1>Admin</h1>
      <p>
        <a href="/admin/queues">Queue dashboard</a> (BullMQ jobs: embeddings and consolidation)
      </p>
      <h2>Users</h2>
      <QueryView
        query={users}
        what="users"
        isEmpty={(data) => data.items.length === 0}
        empty={<>No users.</>}
      >
        {(data) => (
          <div className="table-wrap">
            <table aria-label="Users">
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Active</th>
                  <th scope="col">Joined</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((u) => (
                  <tr key={u.id}>
                    <td>{u.username}</td>
                    <td>{u.email}</td>
                    <td>{u.isSuperuser ? 'superuser' : 'user'}</td>
                    <td>{u.isActive ? 'yes' : 'no'}</td>
                    <td>{u.createdAt.toLocaleDateString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
      <h2>Agents across users</h2>
      <QueryView
        query={agents}
        what="agents"
        isEmpty={(data) => data.items.length === 0}
        empty={<>No agents.</>}
      >
        {(data) => (
          <div className="table-wrap">
            <table aria-label="Agents across users">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Type</th>
                  <th scope="col">Model</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((a) => (
                  <tr key={a.id}>
                    <td>{a.name}</td>
                    <td>{owner.get(a.ownerId) ?? a.ownerId.slice(0, 8)}</td>
                    <td>{a.agentType}</td>
                    <td>
                      {a.modelConfig.provider} / {a.modelConfig.model}
                    </td>
                    <td>{a.createdAt.toLocaleDateString()}</td>
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
