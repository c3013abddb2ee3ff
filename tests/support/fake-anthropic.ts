import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chunks, type ScriptedReply, streamText } from './fake-openai.js';

/**
 * A loopback server speaking Anthropic's Messages API (`POST /v1/messages`, JSON or SSE with
 * Anthropic's event types), so the real `@anthropic-ai/sdk` is exercised. Replies are scripted;
 * requests are recorded.
 */
export interface FakeAnthropic {
  url: string;
  replies: ScriptedReply[];
  requests: Record<string, unknown>[];
  /** Streamed replies whose client hung up before the end (an aborted upstream request). */
  streamsCancelled: number;
  /** As FakeOpenAI.route: answers by request content before the `replies` queue. */
  route?: (body: Record<string, unknown>) => ScriptedReply | undefined | Promise<ScriptedReply | undefined>;
  close: () => Promise<void>;
}

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const replies: ScriptedReply[] = [];
  const requests: Record<string, unknown>[] = [];
  const counters = { streamsCancelled: 0 };
  const api: FakeAnthropic = {
    url: '',
    replies,
    requests,
    get streamsCancelled() {
      return counters.streamsCancelled;
    },
    close: () => Promise.resolve(),
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => void respond());
    const respond = async () => {
      if (req.method !== 'POST' || req.url !== '/v1/messages') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'no route' } }));
        return;
      }
      const parsed = JSON.parse(body) as Record<string, unknown> & { model: string; stream?: boolean };
      requests.push(parsed);
      const reply = (await api.route?.(parsed)) ?? replies.shift() ?? { text: 'ok' };
      if (reply.status) {
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            type: 'error',
            error: { type: 'scripted_error', message: `scripted ${reply.status}` },
          }),
        );
        return;
      }
      const input = reply.usage?.prompt ?? 12;
      const output = reply.usage?.completion ?? 6;
      const tools = (reply.toolCalls ?? []).map((c) => ({
        type: 'tool_use',
        id: c.id,
        name: c.name,
        input: JSON.parse(c.arguments) as unknown,
      }));
      const message = { id: 'msg_fake', type: 'message', role: 'assistant', model: parsed.model };
      if (!parsed.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            ...message,
            content: [...(reply.text ? [{ type: 'text', text: reply.text }] : []), ...tools],
            stop_reason: tools.length ? 'tool_use' : 'end_turn',
            stop_sequence: null,
            usage: { input_tokens: input, output_tokens: output },
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.on('close', () => {
        if (!res.writableFinished && reply.failAfterChunks === undefined) counters.streamsCancelled++;
      });
      const send = (event: string, data: Record<string, unknown>) =>
        res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
      send('message_start', {
        message: {
          ...message,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: input, output_tokens: 0 },
        },
      });
      let index = 0;
      if (reply.text) {
        send('content_block_start', { index, content_block: { type: 'text', text: '' } });
        const whole = await streamText(reply, res, (piece) =>
          send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }),
        );
        if (!whole) return;
        send('content_block_stop', { index });
        index++;
      }
      for (const t of reply.toolCalls ?? []) {
        send('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: t.id, name: t.name, input: {} },
        });
        for (const piece of chunks(t.arguments, 8)) {
          send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
        }
        send('content_block_stop', { index });
        index++;
      }
      send('message_delta', {
        delta: { stop_reason: tools.length ? 'tool_use' : 'end_turn', stop_sequence: null },
        usage: { output_tokens: output },
      });
      send('message_stop', {});
      res.end();
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return api;
}
