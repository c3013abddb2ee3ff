// Logs in, creates an agent and lists it, against a running server.
//   npx tsx client/examples/quickstart.ts
// MIRIX_URL (default http://localhost:8000), MIRIX_USERNAME / MIRIX_PASSWORD (default: the seeded
// developer account) choose where and who.
import { createMirixClient } from '../index.js';

const url = process.env.MIRIX_URL ?? 'http://localhost:8000';
const username = process.env.MIRIX_USERNAME ?? 'developer';
const password = process.env.MIRIX_PASSWORD ?? 'mirix-developer';

const anonymous = createMirixClient({ url });
const { accessToken } = await anonymous.auth.login.mutate({ username, password });

const mirix = createMirixClient({ url, token: accessToken });
const me = await mirix.auth.me.query();
console.log(`logged in as ${me.username}`);

const agent = await mirix.agents.create.mutate({
  name: process.argv[2] ?? `quickstart agent ${new Date().toISOString()}`,
  agentType: 'assistant',
  description: 'Created by client/examples/quickstart.ts',
});
console.log(`created agent ${agent.id} (${agent.name})`);

const page = await mirix.agents.list.query({ limit: 10 });
console.log(`you have ${page.total} agent(s):`);
for (const a of page.items) console.log(`  ${a.id}  ${a.agentType.padEnd(16)} ${a.name}`);

if (!page.items.some((a) => a.id === agent.id)) {
  console.error('the new agent is missing from the list');
  process.exit(1);
}
