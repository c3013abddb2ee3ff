import {
  ZListMessagesRequest,
  ZMessagePageResponse,
  listMessages,
  toMessageResponse,
} from '../../modules/messages/index.js';
import { rest } from '../../rest/meta.js';
import { authedProcedure, router } from '../init.js';

export const messagesRouter = router({
  /** An agent's messages, oldest first, a page at a time. */
  list: authedProcedure
    .meta(
      rest('GET', '/agents/{agentId}/messages', {
        tag: 'chat',
        summary: "An agent's messages, oldest first",
      }),
    )
    .input(ZListMessagesRequest)
    .output(ZMessagePageResponse)
    .query(async ({ ctx, input }) => {
      const page = await listMessages(ctx.em, ctx.user, input);
      return { items: page.items.map(toMessageResponse), nextCursor: page.nextCursor };
    }),
});
