import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback server speaking OpenAI's HTTP API (as Ollama, vLLM and LM Studio do), so the real
 * `openai` SDK is exercised. Its embeddings are "semantic" in a tiny, predictable way: words in
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

export interface FakeOpenAI {
  url: string;
  /** Every embeddings request's input sizes, in order. */
  embeddingBatches: number[];
  /** Answer the next `n` requests with HTTP 500. */
  failNext: (n: number) => void;
  close: () => Promise<void>;
}

export async function startFakeOpenAI(opts: { dim: number }): Promise<FakeOpenAI> {
  const embeddingBatches: number[] = [];
  let failures = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
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
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    embeddingBatches,
    failNext: (n) => {
      failures = n;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
