// `npm run fake-llm`: the test suite's fake OpenAI and Anthropic servers, started by hand for a
// local demo without an API key. Every chat answer is scripted text; the memory managers' requests
// get tool calls made from the content (tests/support/demo-managers.ts), so consolidation writes
// memories; embeddings are "semantic" for a few word groups (car/automobile, dog/puppy, ...).
// Ctrl-C stops them.
import { startFakeAnthropic } from '../tests/support/fake-anthropic.js';
import { startFakeOpenAI } from '../tests/support/fake-openai.js';
import { demoManagerRoute } from '../tests/support/demo-managers.js';

const openai = await startFakeOpenAI({ dim: 768 });
const anthropic = await startFakeAnthropic();
openai.route = demoManagerRoute;
anthropic.route = demoManagerRoute;
const answer = () => ({
  text: 'This is a fake model answering. Your memories were in my prompt.',
  chunkSize: 6,
  delayMs: 30,
});
// Keep a supply of scripted answers: each request takes one.
setInterval(() => {
  while (openai.replies.length < 100) openai.replies.push(answer());
  while (anthropic.replies.length < 100) anthropic.replies.push(answer());
}, 200).unref();
openai.replies.push(...Array.from({ length: 100 }, answer));
anthropic.replies.push(...Array.from({ length: 100 }, answer));

console.log(`Fake LLM providers are up. Start the server with:

  OPENAI_BASE_URL=${openai.url} OPENAI_API_KEY=fake \\
  ANTHROPIC_BASE_URL=${anthropic.url} ANTHROPIC_API_KEY=fake \\
  npm run quickstart

(on a fresh database, add EMBEDDING_PROVIDER=openai EMBEDDING_BASE_URL=${openai.url} for its fake semantic embeddings)`);
await new Promise(() => {});
