/**
 * `npm run build:client`: builds the installable client package in client/dist (see client/package.json
 * and docs/client.md). JavaScript is bundled per entry by esbuild, with its dependencies left as
 * imports. Declarations come from tsc and are bundled by rollup-plugin-dts, with the server's router
 * type reduced to what a client sees: its procedures' inputs and outputs and its error shape, not
 * the server's context (ORM, queues, services), whose types would make every client install them.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'client/dist');
const ENTRIES = ['index', 'ai-sdk', 'mcp-bridge', 'mcp-stdio'];
const TYPED_ENTRIES = ['index', 'ai-sdk', 'mcp-bridge'];
/** What the declarations may import: the package's own dependencies and peers, and Node. */
const pkg = JSON.parse(readFileSync(join(root, 'client/package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
const allowed = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)];

/**
 * The router's declaration as a client needs it. Each (sub)router's first type argument names the
 * server's context and procedure meta; a client only reads `errorShape` and `transformer` there.
 */
export function clientRouterDeclaration(source: string): string {
  const reduced = source
    .replace(/ctx: \{[^{}]*\};/g, 'ctx: object;')
    .replaceAll('import("../../rest/meta.js").ProcedureMeta', 'object')
    .replaceAll('import("../middleware/errors.js").FieldErrors', 'Record<string, string[]>');
  const leftover = /import\("(\.[^"]*)"\)\.\w+/.exec(reduced);
  if (leftover) throw new Error(`the router type still names a server type: ${leftover[0]}`);
  return reduced;
}

async function buildJs() {
  await build({
    entryPoints: Object.fromEntries(ENTRIES.map((e) => [e, join(root, `client/${e}.ts`)])),
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}

async function buildTypes() {
  const work = mkdtempSync(join(tmpdir(), 'mirix-client-dts-'));
  try {
    const config = join(work, 'tsconfig.json');
    writeFileSync(
      config,
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          declaration: true,
          emitDeclarationOnly: true,
          outDir: join(work, 'out'),
          rootDir: root,
          typeRoots: [join(root, 'node_modules/@types')],
        },
        include: TYPED_ENTRIES.map((e) => join(root, `client/${e}.ts`)),
        exclude: [],
      }),
    );
    execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', config], { stdio: 'inherit' });
    const routerFile = join(work, 'out/server/trpc/routers/_app.d.ts');
    writeFileSync(routerFile, clientRouterDeclaration(readFileSync(routerFile, 'utf8')));

    const bundle = await rollup({
      input: Object.fromEntries(TYPED_ENTRIES.map((e) => [e, join(work, `out/client/${e}.d.ts`)])),
      plugins: [dts()],
      external: (id) =>
        allowed.some((dep) => id === dep || id.startsWith(`${dep}/`)) || id.startsWith('node:'),
      onwarn(warning) {
        // An unresolved import is a type the package's users could not resolve either.
        throw new Error(`declaration bundle: ${warning.message}`);
      },
    });
    await bundle.write({ dir: out, format: 'es' });
    await bundle.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await buildJs();
await buildTypes();
// The REST API's types (openapi-typescript) and its OpenAPI document, for REST callers.
cpSync(join(root, 'client/rest/schema.d.ts'), join(out, 'rest.d.ts'));
cpSync(join(root, 'client/rest/openapi.json'), join(out, 'openapi.json'));
console.log(`built ${out}`);
