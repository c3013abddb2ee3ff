import { type FakeAnthropic, startFakeAnthropic } from './fake-anthropic.js';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.js';
import type { AppEnv } from '../../server/services.js';
import { startTestServer, type TestServer } from './server.js';

export interface ChatHarness {
  server: TestServer;
  openai: FakeOpenAI;
  anthropic: FakeAnthropic;
  close: () => Promise<void>;
}

/** A test server whose OpenAI and Anthropic providers are the loopback fakes. */
export async function startChatHarness(
  env: Partial<AppEnv> = {},
  opts: { webRoot?: string } = {},
): Promise<ChatHarness> {
  const openai = await startFakeOpenAI({ dim: 8 });
  const anthropic = await startFakeAnthropic();
  const server = await startTestServer({
    env: {
      OPENAI_BASE_URL: openai.url,
      OPENAI_API_KEY: 'sk-test',
      ANTHROPIC_BASE_URL: anthropic.url,
      ANTHROPIC_API_KEY: 'ak-test',
      ...env,
    },
    ...opts,
  });
  return {
    server,
    openai,
    anthropic,
    close: async () => {
      await server.close();
      await openai.close();
      await anthropic.close();
    },
  };
}
