import type { OpenApiMeta, OpenApiMethod } from 'trpc-to-openapi';

/** The success statuses a REST route may answer with (tRPC itself always answers 200). */
export type RestStatus = 200 | 201 | 202 | 204;

/** Procedure metadata: where the procedure lives in the REST bridge, and its success status. */
export type ProcedureMeta = OpenApiMeta<{ restStatus?: RestStatus }>;

/**
 * A procedure's REST route under `/api/v1`. Paths name their parameters after the procedure's
 * input fields (`{agentId}`); the bridge shows them to REST clients in snake_case (`{agent_id}`).
 */
export function rest(
  method: OpenApiMethod,
  path: `/${string}`,
  opts: { tag: string; summary: string; status?: RestStatus; public?: boolean },
): ProcedureMeta {
  return {
    openapi: {
      method,
      path,
      tags: [opts.tag],
      summary: opts.summary,
      protect: !opts.public,
      ...(opts.status && opts.status !== 200 ? { successDescription: successText[opts.status] } : {}),
    },
    ...(opts.status ? { restStatus: opts.status } : {}),
  };
}

const successText: Record<RestStatus, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted: the work continues in the background',
  204: 'No content',
};
