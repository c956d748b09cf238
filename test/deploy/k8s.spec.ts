/**
 * The Kubernetes base in deploy/k8s, checked against the field rules the daemon relies on.
 * No schema validator (kubeconform, kubeval) is packaged for Debian or npm, so the rules that
 * matter are written out here; `kubectl kustomize` (when installed) proves the base builds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  DAEMON_ROUTES,
  RUNTIME_UID,
  readRepoFile,
  readYaml,
  readYamlDocuments,
  toolMissing,
} from './deploy-files.js';

const BASE = 'deploy/k8s';

interface Metadata {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  spec: Record<string, unknown>;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: Array<{ name: string; containerPort: number }>;
  env?: EnvVar[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface PodSpec {
  containers: Container[];
  volumes?: Array<{
    name: string;
    emptyDir?: object;
    persistentVolumeClaim?: object;
    configMap?: { name: string };
  }>;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; fsGroup?: number };
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
}
interface PodTemplate {
  metadata: Metadata;
  spec: PodSpec;
}
interface Kustomization {
  resources: string[];
  configMapGenerator: Array<{ name: string; files: string[] }>;
  images?: Array<{ name: string }>;
}

/** The API group/version each kind of the base must use (the stable ones, not deprecated betas). */
const API_VERSIONS: Record<string, string> = {
  Deployment: 'apps/v1',
  Service: 'v1',
  PodDisruptionBudget: 'policy/v1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
  PrometheusRule: 'monitoring.coreos.com/v1',
  Job: 'batch/v1',
};

const kustomization = readYaml<Kustomization>(`${BASE}/kustomization.yaml`);
const manifests: Manifest[] = kustomization.resources.flatMap(
  (file) => readYamlDocuments(readRepoFile(join(BASE, file))) as Manifest[],
);

function one(kind: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind} in ${BASE}, found ${found.length}`);
  return found[0]!;
}

const deployment = one('Deployment');
const service = one('Service');
const job = one('Job');
const podTemplate = deployment.spec.template as PodTemplate;
const daemon = podTemplate.spec.containers[0]!;
const jobTemplate = job.spec.template as PodTemplate;

/** Kubernetes quantities as numbers (cores, bytes) so that requests and limits compare. */
function quantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  assert.ok(match, `not a Kubernetes quantity: ${text}`);
  const factors: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(match[1]) * (match[2] ? factors[match[2]]! : 1);
}

function routeOf(probe: Probe | undefined, what: string): string {
  assert.ok(probe?.httpGet, `${what} must be an httpGet probe`);
  return probe.httpGet.path;
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function assertHardened(spec: PodSpec, container: Container, what: string): void {
  assert.equal(spec.securityContext?.runAsNonRoot, true, `${what}: pod runAsNonRoot`);
  assert.equal(spec.securityContext?.runAsUser, RUNTIME_UID, `${what}: pod runAsUser`);
  const sc = container.securityContext;
  assert.equal(sc?.runAsNonRoot, true, `${what}: container runAsNonRoot`);
  assert.equal(sc?.runAsUser, RUNTIME_UID, `${what}: container runAsUser`);
  assert.equal(sc?.readOnlyRootFilesystem, true, `${what}: readOnlyRootFilesystem`);
  assert.equal(sc?.allowPrivilegeEscalation, false, `${what}: allowPrivilegeEscalation`);
  assert.deepEqual(sc?.capabilities?.drop, ['ALL'], `${what}: drops all capabilities`);
  assert.equal(sc?.capabilities?.add, undefined, `${what}: adds no capability`);
}

function assertWritableMounts(spec: PodSpec, container: Container, what: string): void {
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  for (const mount of container.volumeMounts ?? []) {
    assert.ok(volumes.has(mount.name), `${what}: volumeMount ${mount.name} has no volume`);
  }
  for (const path of ['/var/lib/pipeline', '/tmp']) {
    const mount = container.volumeMounts?.find((m) => m.mountPath === path);
    assert.ok(mount, `${what}: nothing mounted at ${path} (the root filesystem is read-only)`);
    assert.notEqual(mount.readOnly, true, `${what}: ${path} must be writable`);
    const volume = volumes.get(mount.name)!;
    assert.ok(
      volume.emptyDir || volume.persistentVolumeClaim,
      `${what}: ${path} must be an emptyDir or a PVC`,
    );
  }
  const env = new Map((container.env ?? []).map((e) => [e.name, e]));
  assert.equal(
    env.get('PIPELINE_DATA_DIR')?.value,
    '/var/lib/pipeline',
    `${what}: PIPELINE_DATA_DIR is the data mount`,
  );
  const configPath = env.get('PIPELINE_CONFIG')?.value;
  assert.ok(configPath, `${what}: PIPELINE_CONFIG is set`);
  const configMount = container.volumeMounts?.find((m) => configPath.startsWith(`${m.mountPath}/`));
  assert.ok(configMount, `${what}: PIPELINE_CONFIG (${configPath}) lies in a mounted volume`);
  const configMap = volumes.get(configMount.name)?.configMap?.name;
  assert.ok(
    kustomization.configMapGenerator.some(
      (g) => g.name === configMap && g.files.includes(configPath.split('/').pop()!),
    ),
    `${what}: ${configPath} comes from a generated ConfigMap holding that file`,
  );
}

function assertSecretsReferenced(container: Container, names: string[], what: string): void {
  for (const name of names) {
    const variable = container.env?.find((e) => e.name === name);
    assert.ok(variable, `${what}: ${name} is set`);
    assert.equal(variable.value, undefined, `${what}: ${name} must not be a literal value`);
    assert.equal(
      variable.valueFrom?.secretKeyRef?.name,
      'pipeline-secrets',
      `${what}: ${name} comes from pipeline-secrets`,
    );
  }
}

describe('the Kubernetes base (deploy/k8s)', () => {
  it('lists only files that exist and uses the stable API version of every kind', () => {
    for (const file of kustomization.resources) assert.ok(existsSync(join(BASE, file)), `${file} is missing`);
    for (const m of manifests) {
      assert.equal(m.apiVersion, API_VERSIONS[m.kind], `${m.kind} ${m.metadata?.name}: apiVersion`);
      assert.match(
        m.metadata.name,
        /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
        `${m.kind}: metadata.name is a DNS label`,
      );
    }
    assert.deepEqual(manifests.map((m) => m.kind).sort(), Object.keys(API_VERSIONS).sort());
  });

  it('commits no Secret and no secret value: DATABASE_URL and the API token come from pipeline-secrets', () => {
    assert.equal(manifests.filter((m) => m.kind === 'Secret').length, 0);
    assertSecretsReferenced(daemon, ['DATABASE_URL', 'PIPELINE_API_TOKEN'], 'daemon');
    assertSecretsReferenced(jobTemplate.spec.containers[0]!, ['DATABASE_URL'], 'migrate job');
  });

  it('keeps deploy/k8s/config.yaml equal to config/config.yaml (kustomize cannot read outside the base)', () => {
    assert.equal(readRepoFile(`${BASE}/config.yaml`), readRepoFile('config/config.yaml'));
  });

  it('runs two daemon replicas whose selector matches their pods', () => {
    assert.equal(deployment.spec.replicas, 2);
    const selector = (deployment.spec.selector as { matchLabels: Record<string, string> }).matchLabels;
    assert.ok(matches(selector, podTemplate.metadata.labels), 'Deployment selector matches its pod labels');
    assert.deepEqual(daemon.args, ['serve']);
    assert.equal(podTemplate.spec.terminationGracePeriodSeconds, 60);
  });

  it('probes liveness and start-up on /health/live (no database) and readiness on /health/ready', () => {
    assert.equal(routeOf(daemon.startupProbe, 'startupProbe'), '/health/live');
    assert.equal(routeOf(daemon.livenessProbe, 'livenessProbe'), '/health/live');
    assert.equal(routeOf(daemon.readinessProbe, 'readinessProbe'), '/health/ready');
    const portNames = new Set((daemon.ports ?? []).map((p) => p.name));
    for (const probe of [daemon.startupProbe, daemon.livenessProbe, daemon.readinessProbe]) {
      assert.ok(
        (DAEMON_ROUTES as readonly string[]).includes(probe!.httpGet!.path),
        `${probe!.httpGet!.path} is a daemon route`,
      );
      assert.ok(
        portNames.has(String(probe!.httpGet!.port)),
        `probe port ${probe!.httpGet!.port} is a named container port`,
      );
    }
  });

  it('listens on the port it tells the daemon to use', () => {
    const port = daemon.ports?.find((p) => p.name === 'http');
    assert.equal(port?.containerPort, 3000);
    assert.equal(daemon.env?.find((e) => e.name === 'PORT')?.value, String(port?.containerPort));
  });

  it('sets requests and limits, with a 512Mi memory limit and requests within the limits', () => {
    for (const [what, container] of [
      ['daemon', daemon],
      ['migrate job', jobTemplate.spec.containers[0]!],
    ] as const) {
      const { requests, limits } = container.resources ?? {};
      assert.ok(
        requests?.cpu && requests.memory && limits?.memory,
        `${what}: cpu/memory requests and a memory limit`,
      );
      assert.equal(limits.memory, '512Mi', `${what}: memory limit`);
      assert.ok(
        quantity(requests.memory) <= quantity(limits.memory),
        `${what}: memory request within the limit`,
      );
      if (limits.cpu)
        assert.ok(quantity(requests.cpu) <= quantity(limits.cpu), `${what}: cpu request within the limit`);
    }
  });

  it('runs as uid 10001, non-root, read-only root filesystem, no privilege escalation, no capabilities', () => {
    assertHardened(podTemplate.spec, daemon, 'daemon');
    assertHardened(jobTemplate.spec, jobTemplate.spec.containers[0]!, 'migrate job');
  });

  it('gives the daemon and the job writable /var/lib/pipeline and /tmp and the config from the generated ConfigMap', () => {
    assertWritableMounts(podTemplate.spec, daemon, 'daemon');
    assertWritableMounts(jobTemplate.spec, jobTemplate.spec.containers[0]!, 'migrate job');
  });

  it('exposes the daemon through a Service whose selector and named port match the pods', () => {
    const spec = service.spec as {
      selector: Record<string, string>;
      ports: Array<{ name: string; port: number; targetPort: string }>;
    };
    assert.ok(
      matches(spec.selector, podTemplate.metadata.labels),
      'Service selector matches the daemon pods',
    );
    assert.ok(
      !matches(spec.selector, jobTemplate.metadata.labels),
      'Service does not select the migrate job',
    );
    const http = spec.ports.find((p) => p.name === 'http');
    assert.ok(http, 'Service has an http port');
    assert.ok(
      daemon.ports?.some((p) => p.name === http.targetPort),
      'Service targetPort is a named container port',
    );
  });

  it('keeps one daemon through voluntary disruptions', () => {
    const pdb = one('PodDisruptionBudget').spec as {
      minAvailable: number;
      selector: { matchLabels: Record<string, string> };
    };
    assert.equal(pdb.minAvailable, 1);
    assert.ok(matches(pdb.selector.matchLabels, podTemplate.metadata.labels));
    assert.ok(
      !matches(pdb.selector.matchLabels, jobTemplate.metadata.labels),
      'the PDB does not count the migrate job',
    );
  });

  it('scrapes /metrics through the Service port with a ServiceMonitor', () => {
    const sm = one('ServiceMonitor');
    const spec = sm.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: Array<{ port: string; path: string }>;
    };
    assert.ok(
      matches(spec.selector.matchLabels, service.metadata.labels),
      'ServiceMonitor selects the Service',
    );
    const portNames = (service.spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name);
    for (const endpoint of spec.endpoints) {
      assert.ok(portNames.includes(endpoint.port), `endpoint port ${endpoint.port} is a Service port`);
      assert.equal(endpoint.path, '/metrics');
    }
    // The alert rules match job="pipeline-daemon": the operator's default job label is the Service name.
    assert.equal(service.metadata.name, 'pipeline-daemon');
  });

  it('carries the alert rules of deploy/prometheus/alerts.yml unchanged in the PrometheusRule', () => {
    const rule = one('PrometheusRule');
    assert.deepEqual(
      rule.spec.groups,
      readYaml<{ groups: unknown }>('deploy/prometheus/alerts.yml').groups,
      'run `node deploy/k8s/sync-prometheus-rule.mjs` after editing deploy/prometheus/alerts.yml',
    );
  });

  it('runs migrations in a Job that does not restart in place and gives up eventually', () => {
    const container = jobTemplate.spec.containers[0]!;
    assert.deepEqual(container.args, ['migrate']);
    assert.equal(container.image, daemon.image, 'the Job runs the same image as the daemon');
    assert.equal(jobTemplate.spec.restartPolicy, 'Never');
    assert.equal(typeof job.spec.backoffLimit, 'number');
    assert.equal(typeof job.spec.activeDeadlineSeconds, 'number');
  });

  it(
    'builds with kubectl kustomize into the same objects, with the hashed ConfigMap wired in',
    { skip: toolMissing('kubectl', ['version', '--client']) },
    () => {
      const result = spawnSync('kubectl', ['kustomize', BASE], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      const built = readYamlDocuments(result.stdout) as Manifest[];
      assert.deepEqual(built.map((m) => m.kind).sort(), ['ConfigMap', ...Object.keys(API_VERSIONS)].sort());
      const configMap = built.find((m) => m.kind === 'ConfigMap')!;
      assert.match(configMap.metadata.name, /^pipeline-config-[a-z0-9]{10}$/);
      for (const kind of ['Deployment', 'Job']) {
        const spec = (built.find((m) => m.kind === kind)!.spec.template as PodTemplate).spec;
        assert.equal(
          spec.volumes?.find((v) => v.name === 'config')?.configMap?.name,
          configMap.metadata.name,
          `${kind} mounts the generated ConfigMap`,
        );
      }
      for (const m of built)
        assert.equal(
          m.metadata.labels?.['app.kubernetes.io/part-of'],
          'ecommerce-pipeline',
          `${m.kind} is labelled`,
        );
    },
  );
});
