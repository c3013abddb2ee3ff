const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32-bit, continued over one more string (fast, deterministic across processes). */
function fnvString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

const WORD = /[\p{L}\p{N}]+/gu;
const TAG_WORD = fnvString(FNV_OFFSET, 'w:');
const TAG_PAIR = fnvString(FNV_OFFSET, 'b:');
const TAG_GRAM = [
  0,
  0,
  0,
  fnvString(FNV_OFFSET, 'c3:'),
  fnvString(FNV_OFFSET, 'c4:'),
  fnvString(FNV_OFFSET, 'c5:'),
];
const LT = '<'.charCodeAt(0);
const GT = '>'.charCodeAt(0);
const SPACE = ' '.charCodeAt(0);

let scratch = new Float64Array(0);

/**
 * A deterministic, offline text embedding: signed feature hashing of
 *   - word unigrams (weight 1.0) and bigrams (0.7), and
 *   - character 3-5-grams of each word with boundary marks (0.35 each),
 * then L2-normalized. Texts that share words or word pieces get a positive cosine; the dimension
 * only changes how often features collide.
 *
 * The features are hashed in place (no substring per n-gram): this runs for every memory the
 * worker embeds, and allocation was its main cost.
 */
export function hashedEmbedding(text: string, dim: number): number[] {
  if (scratch.length !== dim) scratch = new Float64Array(dim);
  const v = scratch;
  v.fill(0);
  const add = (hash: number, weight: number) => {
    const h = hash >>> 0;
    // The top bit picks the sign, so collisions cancel out on average instead of piling up.
    v[h % dim]! += h & 0x80000000 ? -weight : weight;
  };
  const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    add(fnvString(TAG_WORD, w), 1);
    if (i > 0) add(fnvString(Math.imul(fnvString(TAG_PAIR, words[i - 1]!) ^ SPACE, FNV_PRIME), w), 0.7);
    // n-grams of "<word>", without building the string.
    const len = w.length + 2;
    const code = (k: number) => (k === 0 ? LT : k === len - 1 ? GT : w.charCodeAt(k - 1));
    for (let n = 3; n <= 5; n++) {
      for (let j = 0; j + n <= len; j++) {
        let h = TAG_GRAM[n]!;
        for (let k = j; k < j + n; k++) h = Math.imul(h ^ code(k), FNV_PRIME);
        add(h, 0.35);
      }
    }
  }
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += v[i]! * v[i]!;
  norm = Math.sqrt(norm);
  const out = new Array<number>(dim);
  for (let i = 0; i < dim; i++) out[i] = norm > 0 ? v[i]! / norm : 0;
  return out;
}
