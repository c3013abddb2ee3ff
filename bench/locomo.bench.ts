// `npm run bench:locomo [-- --data ../shared/eval/locomo-dev --conversations N --questions N
//   --provider openai --model gpt-4o-mini --judge-model gpt-4o-mini --out bench/results/locomo.json --fake]`
// The end-to-end memory benchmark the MIRIX and mem0 papers report, on conversations in the LOCOMO
// format: each session of a conversation goes to its agent through memory.ingest (the real memory
// managers, one job per session, the session's date on every turn), then each question of
// categories 1-4 is asked through chat.send (retrieval and answer, the turn not remembered), and an
// LLM judge grades each answer against the gold one, generously, on meaning (CORRECT / WRONG).
// Prints accuracy per category, and LLM calls, tokens and time per ingested session and per
// question; writes bench/results/locomo.json.
//
// Models and keys come from the server's configuration (.env and the environment: OPENAI_API_KEY,
// OPENAI_BASE_URL, ANTHROPIC_API_KEY, ...), as the API and worker processes it starts read them.
// --fake runs it on the loopback fake LLM (npm run fake-llm's memory managers, a judge that checks
// the gold answer's words): a CI-sized run that keeps the benchmark working, not a score.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createMirixClient } from '../client/index.js';
import { loadEnv } from '../server/env.js';
import { createLlmProvider } from '../server/llm/index.js';
import { demoManagerRoute } from '../tests/support/demo-managers.js';
import { startFakeOpenAI } from '../tests/support/fake-openai.js';
import { type Conversation, loadLocomo, turnText } from './locomo-data.js';
import { createBenchDatabase, startService, summarize, table } from './lib.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const DATA = resolve(arg('data', '../shared/eval/locomo-dev'));
const OUT = arg('out', join('bench', 'results', 'locomo.json'));
const MAX_CONVERSATIONS = Number(arg('conversations', '1000'));
const MAX_QUESTIONS = Number(arg('questions', '100000'));
const FAKE = args.includes('--fake');
const PROVIDER = arg('provider', 'openai') as 'openai' | 'anthropic';
const MODEL = arg('model', 'gpt-4o-mini');
const JUDGE_MODEL = arg('judge-model', MODEL);
const DB_NAME = arg('db', 'mirix_bench_locomo');
const CATEGORIES: Record<number, string> = {
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
};

const { DATABASE_URL, REDIS_URL } = process.env;
if (!DATABASE_URL || !REDIS_URL) {
  console.error('Set DATABASE_URL and REDIS_URL (npm run bench:locomo does, via scripts/services.sh).');
  process.exit(1);
}

/** The judge prompt of the mem0 paper's LOCOMO evaluation (generous: same meaning, same date). */
function judgePrompt(q: { question: string; gold: string; answer: string }): string {
  return `Your task is to label an answer to a question as 'CORRECT' or 'WRONG'. You will be given the following data:
    (1) a question (posed by one user to another user),
    (2) a 'gold' (ground truth) answer,
    (3) a generated answer
which you will score as CORRECT/WRONG.

The point of the question is to ask about something one user should know about the other user based on their prior conversations.
The gold answer will usually be a concise and short answer that includes the referenced topic, for example:
Question: Do you remember what I got the last time I went to Hawaii?
Gold answer: A shell necklace
The generated answer might be much longer, but you should be generous with your grading - as long as it touches on the same topic as the gold answer, it should be counted as CORRECT.

For time related questions, the gold answer will be a specific date, month, year, etc. The generated answer might be much longer or use relative time references (like "last Tuesday" or "next month"), but you should be generous with your grading - as long as it refers to the same date or time period as the gold answer, it should be counted as CORRECT. Even if the format differs (e.g., "May 7th" vs "7 May"), consider it CORRECT if it's the same date.

Now it's time for the real question:
Question: ${q.question}
Gold answer: ${q.gold}
Generated answer: ${q.answer}

First, provide a short (one sentence) explanation of your reasoning, then finish with CORRECT or WRONG.
Do NOT include both CORRECT and WRONG in your response, or it will break the evaluation script.

Just return the label CORRECT or WRONG in a json format with the key as "label".`;
}

/** The fake judge: CORRECT when every word of the gold answer is in the generated one. */
function fakeJudge(body: Record<string, unknown>) {
  const prompt = String((body.messages as { content: string }[] | undefined)?.at(-1)?.content ?? '');
  if (!prompt.startsWith('Your task is to label an answer')) return undefined;
  const gold = /Gold answer: (.*)\n/.exec(prompt)?.[1] ?? '';
  const answer = /Generated answer: ([\s\S]*?)\n\nFirst, provide/.exec(prompt)?.[1] ?? '';
  const words = gold.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const correct = words.length > 0 && words.every((w) => answer.toLowerCase().includes(w));
  return { text: JSON.stringify({ label: correct ? 'CORRECT' : 'WRONG' }) };
}

const conversations: Conversation[] = loadLocomo(DATA).slice(0, MAX_CONVERSATIONS);
if (conversations.length === 0) throw new Error(`no .json conversations in ${DATA}`);

const fake = FAKE ? await startFakeOpenAI({ dim: 8 }) : null;
/** The fake's chat answer: the memory line of its prompt that shares most words with the question. */
function fakeAnswer(body: Record<string, unknown>) {
  const messages = body.messages as { role: string; content: string }[];
  const system = String(messages.find((m) => m.role === 'system')?.content ?? '');
  const words = (s: string) => new Set(s.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? []);
  const question = words(String(messages.at(-1)?.content ?? ''));
  const overlap = (line: string) => [...words(line)].filter((w) => question.has(w)).length;
  const best = system
    .split('\n')
    .filter((l) => l.startsWith('- '))
    .sort((a, b) => overlap(b) - overlap(a))[0];
  return { text: best ? `From memory: ${best.slice(2)}` : 'I do not remember.' };
}
if (fake) fake.route = (body) => fakeJudge(body) ?? demoManagerRoute(body) ?? fakeAnswer(body);
const llmEnv = fake
  ? { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'fake', LLM_TIMEOUT_MS: 30_000, LLM_MAX_RETRIES: 0 }
  : {};

const db = await createBenchDatabase(DATABASE_URL, DB_NAME);
const env: Record<string, string> = {
  DATABASE_URL: db.url,
  REDIS_URL,
  NODE_ENV: 'development',
  JWT_SECRET: 'l'.repeat(40),
  VAULT_KEYS: `bench:${Buffer.alloc(32, 5).toString('base64')}`,
  RATE_LIMIT_PER_USER: '100000000',
  QUEUE_PREFIX: `bench-locomo-${Date.now()}`,
  LOG_LEVEL: 'info',
  PORT: '0',
  HOST: '127.0.0.1',
  ...Object.fromEntries(Object.entries(llmEnv).map(([k, v]) => [k, String(v)])),
};
db.migrate(env);
// The judge reads the same configuration as the server processes.
const judgeEnv = loadEnv().env;
const judge = createLlmProvider(PROVIDER, { ...judgeEnv, ...llmEnv });
const api = await startService(['server/main.ts'], env, join(tmpdir(), 'mirix-locomo-api.log'), /"port":\d+/);
const worker = await startService(
  ['workers/main.ts'],
  env,
  join(tmpdir(), 'mirix-locomo-worker.log'),
  /worker started/,
);

try {
  const url = `http://127.0.0.1:${/"port":(\d+)/.exec(api.log())![1]}`;
  const anon = createMirixClient({ url });
  await anon.auth.register.mutate({ username: 'locomo', email: 'l@bench.local', password: 'bench-password' });
  const { accessToken } = await anon.auth.login.mutate({ username: 'locomo', password: 'bench-password' });
  const client = createMirixClient({ url, token: accessToken });

  const sessions: { calls: number; tokens: number; ms: number; warnings: number }[] = [];
  const questions: {
    conversation: string;
    category: number;
    question: string;
    gold: string;
    answer: string;
    label: 'CORRECT' | 'WRONG';
    chatTokens: number;
    ms: number;
    memories: number;
  }[] = [];
  let judgeTokens = 0;

  for (const conv of conversations) {
    const agent = await client.agents.create.mutate({
      name: `locomo ${conv.name}`,
      modelConfig: { provider: PROVIDER, model: MODEL, parameters: { temperature: 0 } },
    });
    // One job per session, in order (an agent's jobs apply in order of arrival).
    for (const session of conv.sessions) {
      const { jobId } = await client.memory.ingest.mutate({
        agentId: agent.id,
        messages: session.turns.map((t) => ({
          // Both speakers are people the agent learns about (as the papers' runs store them).
          role: 'user' as const,
          content: `${t.speaker}: ${turnText(t)}`.slice(0, 32_000),
          occurredAt: session.date,
        })),
      });
      for (;;) {
        const job = await client.memory.job.query({ agentId: agent.id, jobId });
        if (job.status === 'completed' || job.status === 'failed') {
          sessions.push({
            calls: job.usage.llmCalls,
            tokens: job.usage.totalTokens,
            ms: job.durationMs ?? 0,
            warnings: job.warnings.length + (job.status === 'failed' ? 1 : 0),
          });
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    for (const q of conv.questions.slice(0, MAX_QUESTIONS)) {
      const started = performance.now();
      const turn = await client.chat.send.mutate({ agentId: agent.id, message: q.question, remember: false });
      const ms = performance.now() - started;
      const verdict = await judge.complete(
        [
          {
            role: 'user',
            content: judgePrompt({ question: q.question, gold: q.answer, answer: turn.response }),
          },
        ],
        { params: { model: JUDGE_MODEL, temperature: 0 } },
      );
      judgeTokens += verdict.usage?.totalTokens ?? 0;
      const label =
        /"label"\s*:\s*"CORRECT"|\bCORRECT\b/.test(verdict.text) && !/\bWRONG\b/.test(verdict.text)
          ? 'CORRECT'
          : 'WRONG';
      questions.push({
        conversation: conv.name,
        category: q.category,
        question: q.question,
        gold: q.answer,
        answer: turn.response,
        label,
        chatTokens: turn.usage?.totalTokens ?? 0,
        ms,
        memories: turn.memoriesUsed.length,
      });
    }
  }

  const accuracy = (qs: typeof questions) =>
    qs.length ? Math.round((qs.filter((q) => q.label === 'CORRECT').length / qs.length) * 1000) / 1000 : 0;
  const rows = [
    ...Object.entries(CATEGORIES).map(([c, name]) => {
      const qs = questions.filter((q) => q.category === Number(c));
      return { category: `${c} ${name}`, questions: qs.length, accuracy: accuracy(qs) };
    }),
    { category: 'all', questions: questions.length, accuracy: accuracy(questions) },
  ];
  const mean = (xs: number[]) =>
    xs.length ? Math.round((xs.reduce((a, x) => a + x, 0) / xs.length) * 10) / 10 : 0;
  const cost = [
    {
      per: 'ingested session',
      n: sessions.length,
      'LLM calls': mean(sessions.map((s) => s.calls)),
      tokens: mean(sessions.map((s) => s.tokens)),
      'ms p50': summarize(sessions.map((s) => s.ms)).p50,
      'with warnings or failed': sessions.filter((s) => s.warnings > 0).length,
    },
    {
      per: 'question (chat.send)',
      n: questions.length,
      'LLM calls': 1,
      tokens: mean(questions.map((q) => q.chatTokens)),
      'ms p50': summarize(questions.map((q) => q.ms)).p50,
      'with warnings or failed': 0,
    },
    {
      per: 'judgement',
      n: questions.length,
      'LLM calls': 1,
      tokens: questions.length ? Math.round(judgeTokens / questions.length) : 0,
      'ms p50': 0,
      'with warnings or failed': 0,
    },
  ];
  const title = `${conversations.length} conversations, ${sessions.length} sessions, ${questions.length} questions (${FAKE ? 'loopback fake LLM: not a score' : `${PROVIDER} ${MODEL}, judge ${JUDGE_MODEL}`})`;
  console.log(table(`LOCOMO accuracy, LLM judge: ${title}`, rows));
  console.log(table('LLM cost and time', cost));
  writeFileSync(
    OUT,
    `${JSON.stringify({ date: new Date().toISOString(), data: DATA, fake: FAKE, provider: PROVIDER, model: MODEL, judgeModel: JUDGE_MODEL, rows, cost, questions }, null, 2)}\n`,
  );
  console.log(`\nwrote ${OUT}`);
} finally {
  await worker.stop();
  await api.stop();
  await fake?.close();
  await db.drop();
}
