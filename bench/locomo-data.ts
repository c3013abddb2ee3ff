// Conversations in the LOCOMO format (one JSON file per conversation; ../shared/eval/README.md), as
// bench:recall and bench:locomo read them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface Turn {
  speaker: string;
  dia_id: string;
  text: string;
  blip_caption?: string;
}
export interface Question {
  question: string;
  answer: string;
  evidence?: string[];
  category: number;
}
export interface Conversation {
  name: string;
  speakerA: string;
  speakerB: string;
  sessions: { date: Date; turns: Turn[] }[];
  /** Categories 1-4 with evidence (5, adversarial, is left out). */
  questions: Question[];
}

const MONTHS = 'january february march april may june july august september october november december'.split(
  ' ',
);

/** "1:56 pm on 8 May, 2023" -> that time, read as UTC. */
export function parseLocomoDate(s: string): Date {
  const m = /(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})/i.exec(s);
  const month = m ? MONTHS.indexOf(m[5]!.toLowerCase()) : -1;
  if (!m || month < 0) throw new Error(`unreadable session date: ${s}`);
  const hour = (Number(m[1]) % 12) + (m[3]!.toLowerCase() === 'pm' ? 12 : 0);
  return new Date(Date.UTC(Number(m[6]), month, Number(m[4]), hour, Number(m[2])));
}

/** A turn's text, with the caption of a photo it shared. */
export const turnText = (t: Turn) =>
  t.blip_caption ? `${t.text} [shares a photo: ${t.blip_caption}]` : t.text;

/**
 * A folder of one JSON file per conversation, or one JSON file: a conversation, or an array of them
 * (the published `locomo10.json`).
 */
export function loadLocomo(path: string): Conversation[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(path, f))
    : [path];
  return files.flatMap((file) => {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const list = (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
    const base = basename(file).replace(/\.json$/, '');
    return list.map((d, i) =>
      conversationOf(
        d,
        Array.isArray(parsed) ? (typeof d.sample_id === 'string' ? d.sample_id : `${base}-${i + 1}`) : base,
      ),
    );
  });
}

function conversationOf(d: Record<string, unknown>, name: string): Conversation {
  const src = (d.conversation ?? d) as Record<string, unknown>;
  const sessions: Conversation['sessions'] = [];
  for (let s = 1; Array.isArray(src[`session_${s}`]); s++) {
    sessions.push({
      date: parseLocomoDate(String(src[`session_${s}_date_time`])),
      turns: src[`session_${s}`] as Turn[],
    });
  }
  const questions = ((d.qa ?? []) as Question[])
    .filter((q) => q.category >= 1 && q.category <= 4 && (q.evidence?.length ?? 0) > 0)
    .map((q) => ({ ...q, answer: String(q.answer) }));
  return {
    name,
    speakerA: typeof src.speaker_a === 'string' ? src.speaker_a : '',
    speakerB: typeof src.speaker_b === 'string' ? src.speaker_b : '',
    sessions,
    questions,
  };
}
