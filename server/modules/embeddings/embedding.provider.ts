import OpenAI from 'openai';
import type { Env } from '../../env.js';
import { AppError, AppErrorCode } from '../../errors.js';
import { hashedEmbedding } from './hashed.js';

/** Turns texts into unit-length vectors of one fixed dimension. */
export interface EmbeddingProvider {
  /** Stored with every vector, so vectors of different models are never compared. */
  readonly model: string;
  readonly dim: number;
  embed(texts: string[]): Promise<number[][]>;
}

/**
 * The offline default: deterministic feature hashing of words, word pairs and character n-grams.
 * It is lexical, not semantic (it matches shared words and word pieces, not meaning); point
 * EMBEDDING_PROVIDER=openai at a real model for semantic recall.
 */
export class HashedEmbeddingProvider implements EmbeddingProvider {
  constructor(
    readonly dim: number,
    readonly model = 'mirix-hashed-v1',
  ) {}

  embed(texts: string[]): Promise<number[][]> {
    return Promise.resolve(texts.map((t) => hashedEmbedding(t, this.dim)));
  }
}

/** Any OpenAI-compatible `/embeddings` endpoint: OpenAI, Ollama, vLLM, LM Studio, LiteLLM. */
export class OpenAIEmbeddingProvider implements EmbeddingProvider {
  private readonly client: OpenAI;

  constructor(
    opts: { apiKey?: string; baseURL?: string; timeoutMs?: number },
    readonly model: string,
    readonly dim: number,
  ) {
    this.client = new OpenAI({
      apiKey: opts.apiKey ?? 'not-needed',
      baseURL: opts.baseURL,
      timeout: opts.timeoutMs ?? 60_000,
      // The embed worker owns retries (with backoff, across jobs).
      maxRetries: 0,
    });
  }

  async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const res = await this.client.embeddings.create({
      model: this.model,
      input: texts,
      encoding_format: 'float',
      // Only OpenAI's text-embedding-3 models can shorten their vectors.
      ...(this.model.startsWith('text-embedding-3') ? { dimensions: this.dim } : {}),
    });
    const vectors = [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    if (vectors.length !== texts.length) {
      throw new Error(`embedding endpoint returned ${vectors.length} vectors for ${texts.length} texts`);
    }
    const wrong = vectors.find((v) => v.length !== this.dim);
    if (wrong) {
      throw new AppError(
        AppErrorCode.ServiceUnavailable,
        `model ${this.model} returned ${wrong.length}-dimension vectors but EMBEDDING_DIM is ${this.dim}`,
      );
    }
    return vectors.map(normalize);
  }
}

function normalize(v: number[]): number[] {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  return norm > 0 ? v.map((x) => x / norm) : v;
}

export type EmbeddingEnv = Pick<
  Env,
  | 'EMBEDDING_PROVIDER'
  | 'EMBEDDING_MODEL'
  | 'EMBEDDING_DIM'
  | 'EMBEDDING_BASE_URL'
  | 'EMBEDDING_API_KEY'
  | 'OPENAI_BASE_URL'
  | 'OPENAI_API_KEY'
>;

export function createEmbeddingProvider(env: EmbeddingEnv): EmbeddingProvider {
  switch (env.EMBEDDING_PROVIDER) {
    case 'hashed':
      return new HashedEmbeddingProvider(env.EMBEDDING_DIM, env.EMBEDDING_MODEL);
    case 'openai':
      return new OpenAIEmbeddingProvider(
        {
          apiKey: env.EMBEDDING_API_KEY ?? env.OPENAI_API_KEY,
          baseURL: env.EMBEDDING_BASE_URL ?? env.OPENAI_BASE_URL,
        },
        env.EMBEDDING_MODEL,
        env.EMBEDDING_DIM,
      );
  }
}
