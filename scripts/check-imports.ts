// `npm run check:imports`: the import graph's rules (docs/architecture.md, "Layout"):
// no file imports itself back, no feature folder imports itself back (directly or through other
// files), only the
// entry point imports the composition root, and a feature is reached through its index.ts.
import madge from 'madge';

const ROOTS = ['server', 'workers', 'shared', 'client'];
const ENTRY_POINTS = new Set(['server/main.ts']);
const COMPOSITION_ROOT = 'server/app.ts';

/** A feature folder (`server/modules/<feature>`) is one node of the graph; any other file is its own. */
export function areaOf(file: string): string {
  const parts = file.split('/');
  return parts[0] === 'server' && parts[1] === 'modules' ? parts.slice(0, 3).join('/') : file;
}

/** Every cycle in a graph, each once (Tarjan's strongly connected components of size > 1). */
export function cyclesOf(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const components: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return components;
}

const result = await madge(ROOTS, {
  fileExtensions: ['ts'],
  tsConfig: 'tsconfig.json',
  excludeRegExp: [/\.d\.ts$/, /^web\//],
});
const files = result.obj();
const problems: string[] = [];

for (const cycle of result.circular()) problems.push(`file cycle: ${cycle.join(' -> ')}`);

const areas = new Map<string, Set<string>>();
const crossing = new Map<string, string[]>();
for (const [file, deps] of Object.entries(files)) {
  const from = areaOf(file);
  for (const dep of deps) {
    const to = areaOf(dep);
    if (dep === COMPOSITION_ROOT && !ENTRY_POINTS.has(file))
      problems.push(`${file} imports the composition root ${COMPOSITION_ROOT}`);
    if (from === to) continue;
    if (to.startsWith('server/modules/') && dep !== `${to}/index.ts`)
      problems.push(`${file} reaches into ${dep}: import the feature's ${to}/index.ts`);
    if (!areas.has(from)) areas.set(from, new Set());
    areas.get(from)!.add(to);
    const key = `${from} -> ${to}`;
    crossing.set(key, [...(crossing.get(key) ?? []), `${file} -> ${dep}`]);
  }
}
for (const cycle of cyclesOf(areas)) {
  const edges = [...crossing.entries()]
    .filter(
      ([key]) => cycle.some((a) => key.startsWith(`${a} -> `)) && cycle.some((b) => key.endsWith(` -> ${b}`)),
    )
    .flatMap(([, imports]) => imports);
  problems.push(`folder cycle: ${cycle.join(', ')}\n    ${edges.join('\n    ')}`);
}

const crossImports = [...crossing.values()].reduce((n, imports) => n + imports.length, 0);
if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`\n${problems.length} import rule(s) broken`);
  process.exit(1);
}
console.log(
  `imports ok: ${Object.keys(files).length} files, ${crossImports} imports between feature folders and other files, no cycles`,
);
