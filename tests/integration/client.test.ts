import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../support/run.js';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('client/examples/quickstart.ts', () => {
  it('logs in, creates an agent and lists it against a running server', async () => {
    const { username, password, client } = await signUp(server, 'quick');
    const res = await runCommand(
      'node_modules/.bin/tsx',
      ['client/examples/quickstart.ts', 'my first agent'],
      {
        MIRIX_URL: server.url,
        MIRIX_USERNAME: username,
        MIRIX_PASSWORD: password,
      },
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`logged in as ${username}`);
    expect(res.stdout).toMatch(/created agent [0-9a-f-]{36} \(my first agent\)/);

    const agents = await client.agents.list.query({});
    expect(agents.items.map((a) => a.name)).toEqual(['my first agent']);
  });

  it('fails with a non-zero exit when the login is wrong', async () => {
    const res = await runCommand('node_modules/.bin/tsx', ['client/examples/quickstart.ts'], {
      MIRIX_URL: server.url,
      MIRIX_USERNAME: 'nobody',
      MIRIX_PASSWORD: 'wrong-password',
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('Incorrect username or password');
  });
});
