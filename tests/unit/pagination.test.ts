import { describe, expect, it } from 'vitest';
import { decodeCursor, pageOf, timeCursorOf } from '../../server/pagination.js';

const rows = [1, 2, 3].map((n) => ({
  id: `0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5${n}`,
  at: new Date(Date.UTC(2026, 0, n)),
}));

describe('pageOf', () => {
  it('keeps `limit` rows and gives a cursor to the last of them when another row follows', () => {
    const page = pageOf(rows, { limit: 2, cursorOf: timeCursorOf((r) => r.at) });
    expect(page.items).toEqual(rows.slice(0, 2));
    expect(decodeCursor(page.nextCursor!)).toEqual({ time: rows[1]!.at, id: rows[1]!.id });
  });

  it('gives no cursor on the last page, full or not', () => {
    expect(pageOf(rows, { limit: 3, cursorOf: (r) => r.id }).nextCursor).toBeNull();
    expect(pageOf(rows.slice(0, 1), { limit: 3, cursorOf: (r) => r.id })).toEqual({
      items: rows.slice(0, 1),
      nextCursor: null,
    });
    expect(pageOf([], { limit: 3, cursorOf: () => 'x' })).toEqual({ items: [], nextCursor: null });
  });
});
