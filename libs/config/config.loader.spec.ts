import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './index.js';

function withYaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-'));
  const path = join(dir, 'config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('configuration', () => {
  it('applies defaults when no file exists', () => {
    const config = loadConfig({ env: {}, cwd: mkdtempSync(join(tmpdir(), 'cwd-')) });
    assert.equal(config.scheduler.schedule, '02:00');
    assert.equal(config.http.port, 3000);
    assert.equal(config.database.url, undefined);
    assert.equal(config.source, null);
  });

  it('lets the environment override the file', () => {
    const path = withYaml('http:\n  port: 4000\npipeline:\n  data_dir: /tmp/x\n');
    const config = loadConfig({
      env: { PIPELINE_CONFIG: path, PORT: '5000', PIPELINE_DATA_DIR: '/tmp/y', LOG_LEVEL: 'debug' },
    });
    assert.equal(config.http.port, 5000);
    assert.equal(config.dataDir, '/tmp/y');
    assert.equal(config.logging.level, 'debug');
  });

  it('names the key and the expectation when a value is invalid', () => {
    const path = withYaml('scheduler:\n  timezone: Mars/Olympus\n');
    assert.throws(
      () => loadConfig({ env: { PIPELINE_CONFIG: path } }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /scheduler\.timezone: expected an IANA time zone/);
        return true;
      },
    );
  });

  it('refuses unknown keys inside kernel sections', () => {
    const path = withYaml('http:\n  prot: 80\n');
    assert.throws(() => loadConfig({ env: { PIPELINE_CONFIG: path } }), /http\.prot: unknown key/);
  });

  it('names the environment variable when PORT is not a number', () => {
    assert.throws(
      () => loadConfig({ env: { PORT: 'eighty' }, cwd: tmpdir() }),
      /http\.port \(from PORT\): expected a whole number/,
    );
  });

  it('reports YAML syntax errors with line and column', () => {
    const path = withYaml('http:\n  port: [1,\n');
    assert.throws(
      () => loadConfig({ env: { PIPELINE_CONFIG: path } }),
      /config\.yaml:\d+:\d+: not valid YAML/,
    );
  });

  it('fails when an explicitly named file is missing', () => {
    assert.throws(
      () => loadConfig({ env: { PIPELINE_CONFIG: '/nonexistent/config.yaml' } }),
      /PIPELINE_CONFIG: cannot read/,
    );
  });

  it('never shows secrets when the config is printed, serialised or hashed', () => {
    const config = loadConfig({
      env: {
        DATABASE_URL: 'postgres://app:hunter2-secret@db:5432/shop',
        PIPELINE_API_TOKEN: 'tok-very-secret',
      },
      cwd: tmpdir(),
    });
    const shown = [JSON.stringify(config), inspect(config, { depth: 10 }), String(config.database.url)].join(
      '\n',
    );
    assert.doesNotMatch(shown, /hunter2-secret|tok-very-secret/);
    assert.equal(config.database.url?.reveal(), 'postgres://app:hunter2-secret@db:5432/shop');
  });
});
