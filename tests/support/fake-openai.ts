import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback server speaking OpenAI's HTTP API (as Ollama, vLLM and LM Studio do), so the real
 * `openai` SDK is exercised: `/v1/embeddings`, and `/v1/chat/completions` as JSON or SSE with
 * scripted replies (text, tool calls, usage, error statuses). Its embeddings are "semantic" in a tiny, predictable way: words in
 * the same concept group (car/automobile/vehicle) share a feature, so paraphrases are close.
 */
export const CONCEPTS: Record<string, string> = Object.fromEntries(
  [
    ['car', 'automobile', 'vehicle', 'sedan', 'auto'],
    ['repair', 'fix', 'mechanic', 'maintenance', 'service'],
    ['dog', 'puppy', 'canine', 'hound'],
    ['doctor', 'physician', 'clinic', 'appointment'],
    ['money', 'budget', 'finance', 'expenses', 'spending'],
  ].flatMap((group) => group.map((w) => [w, group[0]!])),
);

function featureIndex(feature: string, dim: number): [number, number] {
  const h = createHash('md5').update(feature).digest();
  return [h.readUInt32BE(0) % dim, h[4]! & 1 ? 1 : -1];
}

export function fakeSemanticEmbedding(text: string, dim: number): number[] {
  const v = new Array<number>(dim).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const [i, sign] = featureIndex(`concept:${CONCEPTS[word] ?? word}`, dim);
    v[i]! += sign;
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}

/** One scripted answer of a fake LLM server (OpenAI or Anthropic wire format). */
export interface ScriptedReply {
  text?: string;
  toolCalls?: { id: string; name: string; arguments: string }[];
  usage?: { prompt: number; completion: number };
  /** Answer with this HTTP error status instead. */
  status?: number;
  /** Characters per streamed text chunk (default 4). */
  chunkSize?: number;
  /** Pause between streamed chunks. */
  delayMs?: number;
  /** Drop the connection after this many streamed text chunks (a provider failing mid-stream). */
  failAfterChunks?: number;
  /** Stop sending after this many streamed text chunks and hold the connection until the client leaves. */
  stallAfterChunks?: number;
}

/**
 * Writes a scripted reply's text chunk by chunk, as its `delayMs`, `failAfterChunks` and
 * `stallAfterChunks` say. False when the stream was cut short (failed, stalled or the client left):
 * the caller writes nothing more.
 */
export async function streamText(
  reply: ScriptedReply,
  res: http.ServerResponse,
  write: (piece: string) => void,
): Promise<boolean> {
  let sent = 0;
  for (const piece of chunks(reply.text ?? '', reply.chunkSize ?? 4)) {
    if (reply.failAfterChunks !== undefined && sent === reply.failAfterChunks) {
      res.destroy();
      return false;
    }
    if (sent === reply.stallAfterChunks) return false;
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return false;
    write(piece);
    sent++;
  }
  return true;
}

export function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export interface FakeOpenAI {
  url: string;
  /** Every embeddings request's input sizes, in order. */
  embeddingBatches: number[];
  /** Replies for the next chat completions, in order (then: text "ok"). */
  replies: ScriptedReply[];
  /** Every chat completions request body received, in order. */
  chatRequests: Record<string, unknown>[];
  /** Called as each streamed text chunk is written (benchmarks time the relay with it). */
  chunkSent: () => void;
  /** Answer the next `n` requests with HTTP 500. */
  failNext: (n: number) => void;
  /** Streamed replies whose client hung up before the end (an aborted upstream request). */
  streamsCancelled: number;
  /**
   * Answers chat requests by their content, before the `replies` queue is consulted (for callers
   * that send concurrent requests, like the memory managers). May wait, to simulate a slow model.
   */
  route?: (body: Record<string, unknown>) => ScriptedReply | undefined | Promise<ScriptedReply | undefined>;
  close: () => Promise<void>;
}

export async function startFakeOpenAI(opts: { dim: number }): Promise<FakeOpenAI> {
  const embeddingBatches: number[] = [];
  const replies: ScriptedReply[] = [];
  const chatRequests: Record<string, unknown>[] = [];
  let failures = 0;
  const api: FakeOpenAI = {
    url: '',
    embeddingBatches,
    replies,
    chatRequests,
    chunkSent: () => {},
    failNext: (n) => {
      failures = n;
    },
    streamsCancelled: 0,
    close: () => Promise.resolve(),
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on(
      'end',
      () =>
        void (async () => {
          if (failures > 0) {
            failures--;
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: 'injected failure', type: 'server_error' } }));
            return;
          }
          if (req.method === 'POST' && req.url === '/v1/embeddings') {
            const parsed = JSON.parse(body) as { input: string | string[]; model: string };
            const inputs = Array.isArray(parsed.input) ? parsed.input : [parsed.input];
            embeddingBatches.push(inputs.length);
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({
                object: 'list',
                model: parsed.model,
                data: inputs.map((text, index) => ({
                  object: 'embedding',
                  index,
                  embedding: fakeSemanticEmbedding(text, opts.dim),
                })),
                usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
              }),
            );
            return;
          }
          if (req.method === 'POST' && req.url === '/v1/chat/completions') {
            const parsed = JSON.parse(body) as Record<string, unknown> & { model: string; stream?: boolean };
            chatRequests.push(parsed);
            const reply = (await api.route?.(parsed)) ?? replies.shift() ?? { text: 'ok' };
            if (reply.status) {
              res.writeHead(reply.status, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ error: { message: `scripted ${reply.status}`, type: 'scripted' } }));
              return;
            }
            const usage = {
              prompt_tokens: reply.usage?.prompt ?? 10,
              completion_tokens: reply.usage?.completion ?? 5,
              total_tokens: (reply.usage?.prompt ?? 10) + (reply.usage?.completion ?? 5),
            };
            const toolCalls = (reply.toolCalls ?? []).map((c) => ({
              id: c.id,
              type: 'function',
              function: { name: c.name, arguments: c.arguments },
            }));
            const base = { id: 'chatcmpl-fake', object: 'chat.completion', created: 0, model: parsed.model };
            if (!parsed.stream) {
              res.writeHead(200, { 'content-type': 'application/json' });
              res.end(
                JSON.stringify({
                  ...base,
                  choices: [
                    {
                      index: 0,
                      message: {
                        role: 'assistant',
                        content: reply.text ?? null,
                        ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
                      },
                      finish_reason: toolCalls.length ? 'tool_calls' : 'stop',
                    },
                  ],
                  usage,
                }),
              );
              return;
            }
            res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
            res.on('close', () => {
              if (!res.writableFinished && reply.failAfterChunks === undefined) api.streamsCancelled++;
            });
            const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
            const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
              send({
                ...base,
                object: 'chat.completion.chunk',
                choices: [{ index: 0, delta, finish_reason: finish }],
              });
            chunk({ role: 'assistant', content: '' });
            const whole = await streamText(reply, res, (piece) => {
              chunk({ content: piece });
              api.chunkSent();
            });
            if (!whole) return;
            toolCalls.forEach((c, index) => {
              chunk({
                tool_calls: [
                  { index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } },
                ],
              });
              for (const piece of chunks(c.function.arguments, 8))
                chunk({ tool_calls: [{ index, function: { arguments: piece } }] });
            });
            chunk({}, toolCalls.length ? 'tool_calls' : 'stop');
            const options = parsed.stream_options as { include_usage?: boolean } | undefined;
            if (options?.include_usage)
              send({ ...base, object: 'chat.completion.chunk', choices: [], usage });
            res.end('data: [DONE]\n\n');
            return;
          }
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        })(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  api.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return api;
}
