import { z } from 'zod';
import { AppError, AppErrorCode } from './errors.js';
import { ZInputDate } from './input-rules.js';

/** A keyset position: the sort time and the id of the last item of a page. */
export interface KeysetCursor {
  time: Date;
  id: string;
}

const ZCursor = z.tuple([z.iso.datetime(), z.uuid()]);

/** An opaque cursor: base64url of `[time, id]`. */
export function encodeCursor(time: Date, id: string): string {
  return Buffer.from(JSON.stringify([time.toISOString(), id])).toString('base64url');
}

/** Reads a cursor this server made; anything else (crafted, truncated, out of range) is a 400. */
export function decodeCursor(cursor: string): KeysetCursor {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    raw = null;
  }
  const parsed = ZCursor.safeParse(raw);
  const time = parsed.success ? ZInputDate.safeParse(parsed.data[0]) : null;
  if (!parsed.success || !time?.success) throw new AppError(AppErrorCode.BadRequest, 'Invalid cursor');
  return { time: time.data, id: parsed.data[1] };
}

/**
 * One keyset page from `limit + 1` rows read in the page's order: the first `limit`, and a cursor
 * after the last of them when another row follows. Every paginated list ends here.
 */
export function pageOf<T>(
  rows: T[],
  { limit, cursorOf }: { limit: number; cursorOf: (last: T) => string },
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}

/** The cursor after an item of a list ordered by (time, id). */
export const timeCursorOf =
  <T extends { id: string }>(timeOf: (item: T) => Date) =>
  (item: T): string =>
    encodeCursor(timeOf(item), item.id);
