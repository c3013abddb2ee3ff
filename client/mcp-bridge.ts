/**
 * An MCP stdio server that bridges to a running MIRIX-TS server's /mcp endpoint, for MCP clients
 * that only launch local processes. Every JSON-RPC message from stdin is POSTed to the server and
 * its answer written to stdout; diagnostics go to stderr (stdout is the protocol).
 *
 *   mirix-mcp --url http://localhost:8000 --api-key mrx_... [--agent <agentId>]
 *
 * The key may come from MIRIX_API_KEY instead, which keeps it out of process listings.
 */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { parseArgs } from 'node:util';

const USAGE =
  'usage: mirix-mcp --url <server url> [--api-key <key> | MIRIX_API_KEY=<key>] [--agent <agentId>]';

export interface BridgeOptions {
  url: string;
  apiKey: string;
  agentId?: string;
}

export function parseBridgeArgs(argv: string[], env: Record<string, string | undefined>): BridgeOptions {
  const { values } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, 'api-key': { type: 'string' }, agent: { type: 'string' } },
  });
  const url = values.url ?? env.MIRIX_URL;
  const apiKey = values['api-key'] ?? env.MIRIX_API_KEY;
  if (!url || !apiKey) throw new Error(USAGE);
  return { url, apiKey, ...(values.agent ? { agentId: values.agent } : {}) };
}

/** The bridge, running until stdin closes. */
export async function runBridge(opts: BridgeOptions): Promise<void> {
  const base = opts.url.replace(/\/+$/, '');
  const endpoint = new URL(
    opts.agentId ? `${base}/mcp/agents/${encodeURIComponent(opts.agentId)}` : `${base}/mcp`,
  );
  const http = new StreamableHTTPClientTransport(endpoint, {
    requestInit: { headers: { authorization: `Bearer ${opts.apiKey}` } },
  });
  const stdio = new StdioServerTransport();
  const warn = (message: string) => process.stderr.write(`mirix-mcp: ${message}\n`);

  stdio.onmessage = (message: JSONRPCMessage) => {
    http.send(message).catch((err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      warn(reason);
      // A request must get an answer, or the client waits for ever.
      if (isJSONRPCRequest(message)) {
        void stdio.send({
          jsonrpc: '2.0',
          id: message.id,
          error: { code: -32000, message: `MIRIX-TS server at ${endpoint.origin}: ${reason}` },
        });
      }
    });
  };
  http.onmessage = (message) => void stdio.send(message);
  http.onerror = (err) => warn(err.message);

  const closed = new Promise<void>((resolve) => {
    stdio.onclose = () => resolve();
  });
  await http.start();
  await stdio.start();
  process.stdin.once('end', () => void stdio.close());
  await closed;
  await http.close();
}
