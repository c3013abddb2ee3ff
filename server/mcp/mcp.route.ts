import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { getOwnedAgent } from '../modules/agents/index.js';
import { authenticateRequest, credentialOf } from '../modules/auth/index.js';
import { AppError, AppErrorCode } from '../errors.js';
import { httpErrorOf, requestIdOf, wrongMethod, writeHttpError } from '../http-errors.js';
import type { AppServices } from '../services.js';
import { createContextInner } from '../trpc/context.js';
import { appRouter } from '../trpc/routers/_app.js';
import { createMcpServer } from './mcp.server.js';

export const MCP_PATH = '/mcp';

/** True when a JSON-RPC body (one message or a batch) calls a tool. */
function callsTools(body: unknown): boolean {
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  return messages.some((m) => (m as { method?: unknown } | null)?.method === 'tools/call');
}

/**
 * The MCP endpoint: Streamable HTTP, stateless (a server and a transport per request, answers as
 * JSON), at /mcp and at /mcp/agents/{agentId} for clients configured for one agent.
 *
 * Authentication is the API's (a bearer JWT or API key). Each tool call spends one unit of the
 * caller's request budget when it runs, so a refusal is a tool error the model can read; any other
 * MCP request (initialize, tools/list, ping) spends one on arrival.
 */
export function mcpRoute(services: AppServices): express.Router {
  const route = express.Router();
  route.use(express.json({ limit: '1mb' }));

  const handle: RequestHandler<{ agentId?: string }> = async (req, res, next) => {
    try {
      const credential = credentialOf(req.headers);
      const ip = services.clientAddress(req);
      const em = services.orm.em.fork();
      const user = await authenticateRequest(
        em,
        { tokens: services.tokens, limiter: services.requestLimiter },
        { credential, ip, spend: !callsTools(req.body) },
      );
      const agentId = req.params.agentId ?? null;
      if (agentId !== null) {
        if (!z.uuid().safeParse(agentId).success)
          throw new AppError(AppErrorCode.NotFound, 'Agent not found');
        await getOwnedAgent(em, user, agentId);
      }
      const requestId = requestIdOf(req);
      const server = createMcpServer({
        caller: () =>
          appRouter.createCaller(
            createContextInner({
              em: services.orm.em,
              services,
              log: req.log,
              credential,
              user,
              ip,
              requestId: requestId ?? undefined,
            }),
          ),
        agentId,
        log: req.log,
        requestId,
      });
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      if (res.headersSent) return next(err);
      const error = httpErrorOf(err, { requestId: requestIdOf(req), log: req.log });
      // MCP clients learn from this header that the endpoint wants a bearer credential.
      if (error.status === 401) res.setHeader('www-authenticate', 'Bearer');
      writeHttpError(res, error);
    }
  };

  // Stateless: no server-initiated stream (GET) and no session to end (DELETE).
  const postOnly = (req: Request, res: Response) => {
    writeHttpError(
      res,
      wrongMethod({
        method: req.method,
        path: req.originalUrl.split('?')[0]!,
        allowed: ['POST'],
        requestId: requestIdOf(req),
      }),
    );
  };
  for (const path of ['/', '/agents/:agentId']) {
    route.post(path, handle);
    route.all(path, postOnly);
  }
  return route;
}
