import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const root = resolve(import.meta.dirname, '../..');
const k8sDir = join(root, 'k8s');

/** Each kind the manifests use, validated against its Kubernetes OpenAPI schema (kubernetes-models). */
const MODELS: Record<string, new (data: never) => { validate: () => void }> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Namespace': Namespace,
  'networking.k8s.io/v1/Ingress': Ingress,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

function validateManifest(doc: Manifest): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc as never).validate();
}

const manifestFiles = readdirSync(k8sDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const manifests: (Manifest & { file: string })[] = manifestFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8')).map((d) => ({
    ...(d.toJS() as Manifest),
    file,
  })),
);
const find = (kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const container = (d: Manifest) => d.spec.template.spec.containers[0];

describe('Kubernetes manifests (k8s/)', () => {
  it('are each valid against the Kubernetes schemas', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(11);
    for (const m of manifests)
      expect(() => validateManifest(m), `${m.file}: ${m.kind} ${m.metadata.name}`).not.toThrow();
  });

  it('are caught by the validator when wrong', () => {
    const api = structuredClone(find('Deployment', 'mirix-api'));
    api.spec.replicas = 'three';
    expect(() => validateManifest(api)).toThrow(/replicas/);
    const probe = structuredClone(find('Deployment', 'mirix-api'));
    container(probe).livenessProbe.httpGet.port = { name: 'http' };
    expect(() => validateManifest(probe)).toThrow();
    expect(() => validateManifest({ ...find('Service', 'mirix-api'), kind: 'Serivce' })).toThrow(/no schema/);
  });

  it('run the API with 3 replicas, /health liveness, /ready readiness and resources', () => {
    const api = find('Deployment', 'mirix-api');
    expect(api.spec.replicas).toBe(3);
    const c = container(api);
    expect(c.command).toEqual(['node', 'dist/server/main.js']);
    expect(c.livenessProbe.httpGet.path).toBe('/health');
    expect(c.readinessProbe.httpGet.path).toBe('/ready');
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits.memory).toBeDefined();
    expect(api.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it('run the worker as its own Deployment, scaled by its own HPA and disrupted one pod at a time', () => {
    const worker = find('Deployment', 'mirix-worker');
    expect(container(worker).command).toEqual(['node', 'dist/workers/main.js']);
    expect(container(worker).resources.requests).toBeDefined();
    expect(find('HorizontalPodAutoscaler', 'mirix-worker').spec.scaleTargetRef.name).toBe('mirix-worker');
    expect(find('PodDisruptionBudget', 'mirix-worker').spec.selector.matchLabels).toEqual(
      worker.spec.selector.matchLabels,
    );
  });

  it('migrate with a Job, route TLS traffic through the Ingress to the Service, and wire every name', () => {
    const api = find('Deployment', 'mirix-api');
    const podLabels = api.spec.template.metadata.labels;
    expect(container(find('Job', 'mirix-migrate')).command).toEqual(['node', 'dist/server/db/migrate.js']);
    const service = find('Service', 'mirix-api');
    expect(podLabels).toMatchObject(service.spec.selector);
    const ingress = find('Ingress', 'mirix-api');
    expect(ingress.spec.tls[0].secretName).toBeTruthy();
    for (const rule of ingress.spec.rules) {
      for (const p of rule.http.paths) expect(p.backend.service.name).toBe('mirix-api');
    }
    expect(podLabels).toMatchObject(find('PodDisruptionBudget', 'mirix-api').spec.selector.matchLabels);
    expect(find('HorizontalPodAutoscaler', 'mirix-api').spec).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: 'mirix-api' },
      minReplicas: 3,
    });
    // Every ConfigMap and Secret the pods read exists, and the Secret example names what the app requires.
    const config = find('ConfigMap', 'mirix-config');
    const secret = find('Secret', 'mirix-secrets');
    for (const d of [api, find('Deployment', 'mirix-worker'), find('Job', 'mirix-migrate')]) {
      expect(container(d).envFrom).toEqual([
        { configMapRef: { name: config.metadata.name } },
        { secretRef: { name: secret.metadata.name } },
      ]);
    }
    expect(Object.keys(secret.stringData!)).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'VAULT_KEYS']),
    );
    expect(config.data).toMatchObject({ NODE_ENV: 'production' });
    for (const m of manifests) expect(m.metadata.namespace ?? 'mirix', m.file).toBe('mirix');
  });

  it('are all listed in kustomization.yaml, except the Secret example', () => {
    const kustomization = parse(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    expect([...kustomization.resources].sort()).toEqual(
      manifestFiles.filter((f) => f !== 'secret.example.yaml').sort(),
    );
  });
});

const execFileP = promisify(execFile);
const composeConfig = (file: string) =>
  execFileP('docker-compose', ['-f', file, 'config', '-q'], { cwd: root }).then(
    () => ({ ok: true, stderr: '' }),
    (err: { stderr?: string; message?: string }) => ({ ok: false, stderr: err.stderr ?? err.message ?? '' }),
  );

describe('docker-compose.dev.yml', () => {
  const composeFile = join(root, 'docker-compose.dev.yml');

  it('is valid against the Compose schema (docker-compose config)', async () => {
    expect(await composeConfig(composeFile)).toEqual({ ok: true, stderr: '' });
  });

  it('is caught by the validator when wrong', async () => {
    const broken = parse(readFileSync(composeFile, 'utf8'));
    broken.services.api.depends_on.migrate.condition = 'whenever';
    const file = join(mkdtempSync(join(tmpdir(), 'mirix-compose-')), 'docker-compose.yml');
    writeFileSync(file, JSON.stringify(broken));
    const result = await composeConfig(file);
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain('condition');
  });

  it('has postgres (pgvector), redis, migrate, api and worker, with healthchecks and start order', () => {
    const compose = parse(readFileSync(composeFile, 'utf8'));
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'migrate', 'postgres', 'redis', 'worker']);
    expect(compose.services.postgres.image).toMatch(/pgvector/);
    for (const name of ['postgres', 'redis', 'api', 'worker'])
      expect(compose.services[name].healthcheck).toBeDefined();
    for (const name of ['api', 'worker']) {
      expect(compose.services[name].depends_on).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    }
    expect(compose.services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(compose.services.migrate.command).toEqual(['node', 'dist/server/db/migrate.js']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
  const runtime = dockerfile.slice(dockerfile.search(/^FROM\s+\S+\s+AS\s+runtime/im));

  it('builds in stages and runs the compiled server, as a non-root user, with a /health check', () => {
    expect(stages).toEqual(['build', 'prod-deps', 'runtime']);
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK [\s\S]*\/health/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/server\/main\.js"\]$/m);
    // The runtime copies only compiled code and production dependencies.
    expect(runtime).toMatch(/COPY --from=prod-deps .*node_modules/);
    expect(runtime).toMatch(/COPY --from=build .*\/app\/dist/);
    expect(runtime).not.toMatch(/COPY --from=build .*node_modules/);
  });

  it('copies everything `npm run build` needs', () => {
    const tsconfig = JSON.parse(
      readFileSync(join(root, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, ''),
    ) as { include: string[] };
    const copied = [...dockerfile.matchAll(/^COPY (?!--)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    for (const pattern of tsconfig.include) expect(copied, pattern).toContain(pattern.split('/')[0]);
    for (const file of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'scripts/build.sh',
      // build.sh also builds the web app, which runs on the typed client.
      'web',
      'client',
    ]) {
      expect(copied).toContain(file);
    }
  });
});
