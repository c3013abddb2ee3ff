import { router } from '../init.js';
import { adminRouter } from './admin.router.js';
import { agentsRouter } from './agents.router.js';
import { apiKeysRouter, authRouter } from './auth.router.js';
import { chatRouter } from './chat.router.js';
import { memoryRouter } from './memory.router.js';
import { messagesRouter } from './messages.router.js';

export const appRouter = router({
  auth: authRouter,
  apiKeys: apiKeysRouter,
  agents: agentsRouter,
  messages: messagesRouter,
  memory: memoryRouter,
  chat: chatRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
