// Copies the rule groups of deploy/prometheus/alerts.yml into deploy/k8s/prometheus-rule.yaml
// (kustomize cannot read outside deploy/k8s). Run from the repository root after editing the
// rules: `node deploy/k8s/sync-prometheus-rule.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';
import prettier from 'prettier';
import { parse, parseDocument } from 'yaml';

const rulesPath = 'deploy/prometheus/alerts.yml';
const targetPath = 'deploy/k8s/prometheus-rule.yaml';

const { groups } = parse(readFileSync(rulesPath, 'utf8'));
const target = readFileSync(targetPath, 'utf8');
const header = target
  .split('\n')
  .filter((line) => line.startsWith('#'))
  .join('\n');
const doc = parseDocument(target);
doc.setIn(['spec', 'groups'], doc.createNode(groups));
const body = doc
  .toString({ lineWidth: 0 })
  .split('\n')
  .filter((line) => !line.startsWith('#'))
  .join('\n');
const options = { ...(await prettier.resolveConfig(targetPath)), filepath: targetPath };
writeFileSync(targetPath, await prettier.format(`${header}\n${body}`, options));
