import { readFileSync } from 'node:fs';

const cache = new Map<string, string>();

/**
 * Reads a `.sql` file that sits beside the calling module (pass `import.meta.url`).
 * SQL lives in files so a data engineer can read and run it in psql.
 */
export function sqlFile(moduleUrl: string | URL, name: string): string {
  const url = new URL(name, moduleUrl).href;
  let sql = cache.get(url);
  if (sql === undefined) {
    sql = readFileSync(new URL(url), 'utf8');
    cache.set(url, sql);
  }
  return sql;
}
