/**
 * The Prometheus alert rules: every rule is documented, has a runbook entry and unit tests that
 * see it both firing and silent; promtool (when installed) lints the files and runs those tests.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { readRepoFile, readYaml, toolMissing } from './deploy-files.js';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTest {
  alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }>;
}

const rules = readYaml<{ groups: Array<{ name: string; rules: Rule[] }> }>(
  'deploy/prometheus/alerts.yml',
).groups.flatMap((g) => g.rules);
const ruleTests = ['alerts.test.yml', 'alerts.long.test.yml'].flatMap((file) =>
  readYaml<{ tests: RuleTest[] }>(`deploy/prometheus/${file}`).tests.flatMap((t) => t.alert_rule_test ?? []),
);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)) {
    anchors.add(
      match[1]!
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-'),
    );
  }
  return anchors;
}

describe('the alert rules (deploy/prometheus/alerts.yml)', () => {
  it('covers run staleness, failed runs, quality, database, lock contention, retries and stale data', () => {
    const names = rules.map((r) => r.alert);
    for (const required of [
      'PipelineNoSuccessIn25h',
      'PipelineLastRunFailed',
      'PipelineDataQualityLow',
      'PipelineDataStale',
      'PipelineDatabaseUnreachable',
      'PipelineLockContention',
      'PipelineStageRetriesClimbing',
    ]) {
      assert.ok(names.includes(required), `missing rule ${required}`);
    }
    assert.equal(new Set(names).size, names.length, 'rule names are unique');
  });

  it('gives every rule a severity, a summary, a description and a runbook entry in docs/operations.md', () => {
    const anchors = anchorsOf(readRepoFile('docs/operations.md'));
    for (const rule of rules) {
      assert.ok(['critical', 'warning'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity`);
      assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
      assert.ok(rule.annotations?.description, `${rule.alert}: description`);
      const url = rule.annotations?.runbook_url ?? '';
      assert.equal(url, `docs/operations.md#${rule.alert.toLowerCase()}`, `${rule.alert}: runbook_url`);
      assert.ok(anchors.has(url.split('#')[1]!), `docs/operations.md has no heading for ${url}`);
    }
  });

  it('tests every rule both firing and not firing', () => {
    for (const rule of rules) {
      const cases = ruleTests.filter((t) => t.alertname === rule.alert);
      assert.ok(
        cases.some((t) => t.exp_alerts.length > 0),
        `${rule.alert}: no test sees it firing`,
      );
      assert.ok(
        cases.some((t) => t.exp_alerts.length === 0),
        `${rule.alert}: no test sees it silent`,
      );
    }
    const unknown = ruleTests.map((t) => t.alertname).filter((name) => !rules.some((r) => r.alert === name));
    assert.deepEqual(unknown, [], 'tests name only existing rules');
  });

  it('passes promtool check rules, check config and test rules', { skip: toolMissing('promtool') }, () => {
    const result = spawnSync('bash', ['deploy/prometheus/check.sh'], { encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });
});
