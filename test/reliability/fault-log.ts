/**
 * The reliability suite writes one line per fault it tried to `RELIABILITY_LOG` (when set);
 * `scripts/reliability-report.mjs` turns those lines into docs/reliability.md, so the document
 * is the suite's own output and cannot drift from the tests.
 */
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

export interface FaultRecord {
  readonly suite: string;
  readonly fault: string;
  readonly outcome: string;
  readonly lost: string;
}

/**
 * Temporary folders have random names: a path under one keeps only its file name (a bare
 * temporary folder becomes `<tmp>`), so the document is the same from run to run.
 */
function stable(text: string): string {
  const tmp = tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text
    .replace(new RegExp(`${tmp}/[^\\s:,;"')]*`, 'g'), (path) => {
      const parts = path.split('/').filter(Boolean);
      return parts.length > tmpdir().split('/').filter(Boolean).length + 1
        ? parts[parts.length - 1]!
        : '<tmp>';
    })
    .replace(/\s+/g, ' ');
}

export function recordFault(record: FaultRecord): void {
  const path = process.env.RELIABILITY_LOG;
  if (!path) return;
  const line: FaultRecord = {
    suite: stable(record.suite),
    fault: stable(record.fault),
    outcome: stable(record.outcome),
    lost: stable(record.lost),
  };
  appendFileSync(path, JSON.stringify(line) + '\n');
}
