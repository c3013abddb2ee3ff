/** FNV-1a, 32-bit: fast, deterministic across processes and platforms. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * A deterministic, offline text embedding: signed feature hashing of
 *   - word unigrams (weight 1.0) and bigrams (0.7), and
 *   - character 3-5-grams of each word with boundary marks (0.35 each),
 * then L2-normalized. Texts that share words or word pieces get a positive cosine; the dimension
 * only changes how often features collide.
 */
export function hashedEmbedding(text: string, dim: number): number[] {
  const v = new Float64Array(dim);
  const add = (feature: string, weight: number) => {
    const h = fnv1a(feature);
    // The top bit picks the sign, so collisions cancel out on average instead of piling up.
    v[h % dim]! += h & 0x80000000 ? -weight : weight;
  };
  const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    add(`w:${w}`, 1);
    if (i > 0) add(`b:${words[i - 1]} ${w}`, 0.7);
    const marked = `<${w}>`;
    for (let n = 3; n <= 5; n++) {
      for (let j = 0; j + n <= marked.length; j++) add(`c${n}:${marked.slice(j, j + n)}`, 0.35);
    }
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  return Array.from(v, (x) => (norm > 0 ? x / norm : 0));
}
