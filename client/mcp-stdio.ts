#!/usr/bin/env node
// The `mirix-mcp` command (npm run mcp:stdio in this repository): see mcp-bridge.ts.
import { type BridgeOptions, parseBridgeArgs, runBridge } from './mcp-bridge.js';

let opts: BridgeOptions;
try {
  opts = parseBridgeArgs(process.argv.slice(2), process.env);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
runBridge(opts).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`mirix-mcp: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
