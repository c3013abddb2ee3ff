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
