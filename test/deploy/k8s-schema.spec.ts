/**
 * Every Kubernetes manifest under deploy/k8s validates against the API's own OpenAPI schemas
 * (kubernetes-models, generated from the Kubernetes and prometheus-operator specifications):
 * a wrong field type, a missing required field or a misspelt kind fails here, in CI, without a
 * cluster.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse } from 'yaml';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';

const BASE = join(process.cwd(), 'deploy', 'k8s');

type Validatable = { validate(): void };
const MODELS: Record<string, new (data: never) => Validatable> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/Service': Service,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
}

function manifests(): { file: string; doc: Manifest }[] {
  const kustomization = parse(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8')) as {
    resources: string[];
  };
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(BASE, file), 'utf8')).map((d) => ({
      file,
      doc: d.toJS() as Manifest,
    })),
  );
}

describe('Kubernetes manifests against the API schemas', () => {
  const all = manifests();

  it('has a schema for every kind the kustomization lists', () => {
    const unknown = all
      .filter(({ doc }) => !MODELS[`${doc.apiVersion}/${doc.kind}`])
      .map(({ file, doc }) => `${file}: ${doc.apiVersion}/${doc.kind}`);
    assert.deepEqual(unknown, []);
    assert.ok(all.length >= 6, `found ${all.length} manifests`);
  });

  for (const { file, doc } of all) {
    it(`${file}: ${doc.kind} ${doc.metadata?.name ?? ''} is valid`, () => {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`]!;
      assert.doesNotThrow(() => new Model(doc as never).validate());
    });
  }

  it('catches a manifest that breaks the schema', () => {
    const deployment = all.find(({ doc }) => doc.kind === 'Deployment')!.doc as unknown as {
      spec: { replicas: unknown };
    };
    const broken = structuredClone(deployment);
    broken.spec.replicas = 'two';
    assert.throws(() => new Deployment(broken as never).validate(), /replicas/);
  });
});
