/**
 * What a search query asks of the full-text signal. Parsing happens here, in plain code, and the
 * SQL only ever receives words and phrases as bound parameters: PostgreSQL's own parsers
 * (`to_tsvector`, `phraseto_tsquery`) turn them into lexemes, so no user text is ever read as
 * tsquery syntax (`'&|!():*<->\` are just punctuation).
 */
export interface FulltextQuery {
  /** Free words; any of them may match (OR), ranked by BM25. */
  words: string;
  /** The last word as it is being typed (`kube` matches kubernetes), or null. */
  prefix: string | null;
  /** Quoted phrases and identifier-like tokens: memories holding them rank first. */
  exact: string[];
  /** `-word`: memories holding it are left out of every signal. */
  exclude: string[];
}

/** PostgreSQL's `english` stop words (Snowball's list): the text index holds none of them. */
const STOP_WORDS = new Set(
  `i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself
  it its itself they them their theirs themselves what which who whom this that these those am is are was were be
  been being have has had having do does did doing a an the and but if or because as until while of at by for with
  about against between into through during before after above below to from up down in out on off over under
  again further then once here there when where why how all any both each few more most other some such no nor
  not only own same so than too very s t can will just don should now`.split(/\s+/),
);

const WORD = /[\p{L}\p{N}]+/gu;
const IDEOGRAPH = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/u;
/** A token with a letter and a digit, or an underscore: an error code, a version, a ticket, a name_in_code. */
const IDENTIFIER = /^(?=.*\p{L})(?=.*[\p{N}_])[\p{L}\p{N}_][\p{L}\p{N}_.:/@#-]*[\p{L}\p{N}_]$/u;

/** Splits a query into what the full-text signal searches for. */
export function parseSearchQuery(query: string): FulltextQuery {
  const exact: string[] = [];
  const exclude: string[] = [];
  let rest = query.replace(/"([^"]*)"?/g, (_, phrase: string) => {
    if (phrase.trim()) exact.push(phrase.trim());
    return ' ';
  });
  rest = rest.replace(/(^|\s)-([\p{L}\p{N}][\p{L}\p{N}_-]*)/gu, (_, lead: string, word: string) => {
    exclude.push(word);
    return lead;
  });
  for (const token of rest.split(/\s+/)) {
    const t = token.replace(/^[^\p{L}\p{N}_]+|[^\p{L}\p{N}_]+$/gu, '');
    if (t.length >= 3 && IDENTIFIER.test(t)) exact.push(t);
  }
  // The last word is a prefix only while it is being typed: plain letters at the very end.
  const last = /(^|[^\p{L}\p{N}])([\p{L}\p{N}]{2,})$/u.exec(rest.trimEnd());
  const prefix = last && !IDEOGRAPH.test(last[2]!) ? last[2]!.toLowerCase() : null;
  const words = prefix ? rest.trimEnd().slice(0, -last![2]!.length) : rest;
  return { words, prefix, exact, exclude };
}

/** Whether the full-text signal has anything to look for (stop words alone are not indexed). */
export function hasSearchableWords(q: FulltextQuery): boolean {
  const content = (s: string) => (s.toLowerCase().match(WORD) ?? []).some((w) => !STOP_WORDS.has(w));
  return (
    content(q.words) || (q.prefix !== null && !STOP_WORDS.has(q.prefix)) || q.exact.some((e) => content(e))
  );
}
