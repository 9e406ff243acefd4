/**
 * The Kubernetes manifests, checked without a cluster: each parses and names itself; the probes,
 * the hardening and the resources are there; the Service, the PodMonitor and the Deployment agree
 * on labels and ports; the config the pod mounts is where its command line looks; and the
 * PrometheusRule is exactly what the generator makes from the unit-tested rules file.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { filesIn, readYaml, repoPath, requireTool, run } from './tools.js';

interface Meta {
  name?: string;
  labels?: Record<string, string>;
}
interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: Meta;
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface Probe {
  httpGet?: { path?: string; port?: string | number };
}
interface Container {
  name: string;
  image?: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string }; emptyDir?: unknown }[];
}
interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: Meta; spec: PodSpec };
}
interface ServiceSpec {
  selector: Record<string, string>;
  publishNotReadyAddresses?: boolean;
  ports: { name?: string; port: number; targetPort?: string | number }[];
}
interface PodMonitorSpec {
  jobLabel?: string;
  selector: { matchLabels: Record<string, string> };
  podMetricsEndpoints: { port?: string; path?: string }[];
}

const K8S = 'deploy/k8s';
const MANIFEST_FILES = filesIn(K8S, '.yaml').filter((f) => basename(f) !== 'kustomization.yaml');

function load(): Manifest[] {
  return MANIFEST_FILES.flatMap((file) =>
    parseAllDocuments(readFileSync(repoPath(file), 'utf8')).map((doc) => {
      expect(doc.errors, `${file}: ${doc.errors.join('; ')}`).toEqual([]);
      return doc.toJS() as Manifest;
    }),
  );
}

const manifests = load();

function only(kind: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0] as Manifest;
}

const deployment = only('Deployment');
const dspec = deployment.spec as unknown as DeploymentSpec;
const pod = dspec.template.spec;
const podLabels = dspec.template.metadata.labels ?? {};
const klaxon = pod.containers.find((c) => c.name === 'klaxon') as Container;

function isSubset(sub: Record<string, string>, of: Record<string, string>): boolean {
  return Object.keys(sub).length > 0 && Object.entries(sub).every(([k, v]) => of[k] === v);
}

describe('Kubernetes manifests', () => {
  it('each have apiVersion, kind and metadata.name', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'PodMonitor', 'PrometheusRule', 'Service'].sort(),
    );
    for (const m of manifests) {
      expect(m.apiVersion, JSON.stringify(m.metadata)).toMatch(/^([a-z0-9.-]+\/)?v\d+(beta\d+|alpha\d+)?$/);
      expect(m.metadata?.name, `${m.kind} name`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it('are all listed in kustomization.yaml', () => {
    const k = readYaml(K8S, 'kustomization.yaml') as { resources: string[] };
    expect([...k.resources].sort()).toEqual(MANIFEST_FILES.map((f) => basename(f)).sort());
  });
});

describe('the Deployment', () => {
  it('selects its own pods', () => {
    expect(isSubset(dspec.selector.matchLabels, podLabels)).toBe(true);
  });

  it('runs one replica (replicas in one consumer group would each see part of a stream)', () => {
    expect(dspec.replicas).toBe(1);
  });

  it('serves HTTP on 9464 with liveness on /healthz and readiness on /readyz', () => {
    expect(klaxon.ports).toContainEqual(expect.objectContaining({ name: 'http', containerPort: 9464 }));
    expect(klaxon.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(klaxon.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(klaxon.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
  });

  it('runs as a numeric non-root user on a read-only root filesystem with no capabilities', () => {
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(klaxon.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(klaxon.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(klaxon.securityContext?.capabilities?.drop).toEqual(['ALL']);
  });

  it('runs as the user the image declares', () => {
    const user = /^USER\s+(\d+)/m.exec(readFileSync(repoPath('Dockerfile'), 'utf8'))?.[1];
    expect(Number(user)).toBe(pod.securityContext?.runAsUser);
  });

  it('sets CPU and memory requests and limits', () => {
    for (const kind of ['requests', 'limits'] as const) {
      expect(klaxon.resources?.[kind]?.cpu, `${kind}.cpu`).toBeTruthy();
      expect(klaxon.resources?.[kind]?.memory, `${kind}.memory`).toBeTruthy();
    }
  });

  it('mounts writable emptyDirs for /tmp and the stateDir, since the root filesystem is read-only', () => {
    const emptyDirs = new Set((pod.volumes ?? []).filter((v) => v.emptyDir !== undefined).map((v) => v.name));
    const writable = (klaxon.volumeMounts ?? []).filter((m) => emptyDirs.has(m.name)).map((m) => m.mountPath);
    const config = parse(only('ConfigMap').data?.['klaxon.yaml'] ?? '') as { stateDir?: string };
    expect(writable).toContain('/tmp');
    expect(writable).toContain(config.stateDir);
  });

  it('mounts the ConfigMap where its --config argument points, with a valid-looking config', () => {
    const args = klaxon.args ?? [];
    expect(args[0]).toBe('run');
    const configPath = args[args.indexOf('--config') + 1] ?? '';
    const cm = only('ConfigMap');
    const volume = (pod.volumes ?? []).find((v) => v.configMap?.name === cm.metadata?.name);
    expect(volume, 'a volume from the ConfigMap').toBeDefined();
    const mount = klaxon.volumeMounts?.find((m) => m.name === volume?.name);
    const key = mount?.subPath ?? configPath.slice((mount?.mountPath ?? '').length + 1);
    expect(mount?.subPath ? mount.mountPath : `${mount?.mountPath}/${key}`).toBe(configPath);
    const config = parse(cm.data?.[key] ?? '') as { http?: { port?: number }; streams?: unknown[]; source?: { type?: string } };
    expect(config.http?.port).toBe(9464);
    expect(config.source?.type).toBe('kafka');
    expect(config.streams?.length).toBeGreaterThan(0);
  });
});

describe('the Service and the PodMonitor', () => {
  it('Service selects the pods and targets their http port', () => {
    const svc = only('Service').spec as unknown as ServiceSpec;
    expect(isSubset(svc.selector, podLabels), 'Service selector ⊆ pod labels').toBe(true);
    const names = new Set((klaxon.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
    for (const p of svc.ports) expect(names.has(p.targetPort ?? p.port), `targetPort ${String(p.targetPort)}`).toBe(true);
    expect(svc.ports.map((p) => p.port)).toContain(9464);
    // The page and operator API must stay reachable while /readyz says 503 (Kafka lost).
    expect(svc.publishNotReadyAddresses).toBe(true);
  });

  it('PodMonitor selects the pods, scrapes /metrics on the http port, and labels them job="klaxon"', () => {
    const pm = only('PodMonitor');
    expect(pm.apiVersion).toBe('monitoring.coreos.com/v1');
    const spec = pm.spec as unknown as PodMonitorSpec;
    expect(isSubset(spec.selector.matchLabels, podLabels), 'PodMonitor selector ⊆ pod labels').toBe(true);
    const portNames = (klaxon.ports ?? []).map((p) => p.name);
    expect(spec.podMetricsEndpoints.length).toBeGreaterThan(0);
    for (const e of spec.podMetricsEndpoints) {
      expect(portNames).toContain(e.port);
      expect(e.path ?? '/metrics').toBe('/metrics');
    }
    // KlaxonDown selects up{job="klaxon"}: the job label comes from this pod label
    expect(podLabels[spec.jobLabel ?? '']).toBe('klaxon');
  });
});

describe('the PrometheusRule', () => {
  const generated = run(process.execPath, ['scripts/deploy/gen-prometheusrule.mjs', '--stdout']);

  it('is exactly what scripts/deploy/gen-prometheusrule.mjs makes of the rules file', () => {
    expect(generated.status, generated.output).toBe(0);
    expect(readFileSync(repoPath(K8S, 'prometheusrule.yaml'), 'utf8')).toBe(generated.stdout);
  });

  it('holds the same groups as deploy/prometheus/rules/klaxon.rules.yml', () => {
    const rule = only('PrometheusRule');
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.spec?.groups).toEqual((readYaml('deploy/prometheus/rules/klaxon.rules.yml') as { groups: unknown }).groups);
  });

  it('passes the rule unit tests itself', () => {
    requireTool('promtool');
    const dir = mkdtempSync(join(tmpdir(), 'klaxon-prometheusrule-'));
    try {
      mkdirSync(join(dir, 'rules'));
      writeFileSync(join(dir, 'rules', 'klaxon.rules.yml'), stringify({ groups: only('PrometheusRule').spec?.groups }));
      cpSync(repoPath('deploy/prometheus/tests'), join(dir, 'tests'), { recursive: true });
      const tests = filesIn('deploy/prometheus/tests', '.test.yml').map((f) => join(dir, 'tests', basename(f)));
      const r = run('promtool', ['test', 'rules', ...tests]);
      expect(r.status, r.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
