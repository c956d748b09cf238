import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

  it('reads the plugins to load from the file, or from PIPELINE_PLUGINS (comma-separated) over it', () => {
    const path = withYaml("plugins:\n  - '@acme/loyalty'\n  - ./local/lake-export\n");
    assert.deepEqual(loadConfig({ env: { PIPELINE_CONFIG: path } }).plugins, [
      '@acme/loyalty',
      './local/lake-export',
    ]);
    const overridden = loadConfig({
      env: { PIPELINE_CONFIG: path, PIPELINE_PLUGINS: ' @acme/a , @acme/b,' },
    });
    assert.deepEqual(overridden.plugins, ['@acme/a', '@acme/b']);
    assert.equal(loadConfig({ env: {}, cwd: mkdtempSync(join(tmpdir(), 'cwd-')) }).plugins, undefined);
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

  describe('DATABASE_URL', () => {
    for (const [what, url] of [
      ['not a URL', 'db.example.com:5432/shop'],
      ['another scheme', 'mysql://app:hunter2-secret@db/shop'],
      ['a port out of range', 'postgres://app:hunter2-secret@db:99999/shop'],
      ['a password that is not percent-encoded', 'postgres://app:hunter2%zz@db/shop'],
    ] as const) {
      it(`is refused naming the key, never the value, when it is ${what}`, () => {
        assert.throws(
          () => loadConfig({ env: { DATABASE_URL: url }, cwd: tmpdir() }),
          (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            assert.match(
              e.message,
              /^Invalid configuration: database\.url \(from DATABASE_URL\): expected a PostgreSQL URL/,
            );
            assert.ok(!e.message.includes('hunter2') && !e.message.includes('db.example.com'), e.message);
            return true;
          },
        );
      });
    }

    it('accepts postgres:// and postgresql:// URLs, with or without a host', () => {
      for (const url of [
        'postgres://a:b@h:5432/d',
        'postgresql://h/d',
        'postgres:///d?host=/var/run/postgresql',
      ])
        assert.equal(loadConfig({ env: { DATABASE_URL: url }, cwd: tmpdir() }).database.url?.reveal(), url);
    });
  });

  describe('the data folder', () => {
    const refused = (dataDir: string, env: Record<string, string> = {}) =>
      assert.throws(
        () => loadConfig({ env: { PIPELINE_DATA_DIR: dataDir, ...env }, cwd: tmpdir() }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError);
          assert.match(e.message, /^Invalid configuration: pipeline\.data_dir \(from PIPELINE_DATA_DIR\): /);
          assert.match(e.message, /must be a folder of its own/);
          return true;
        },
      );

    it('refuses the root folder', () => refused('/'));
    it('refuses a home folder and the folder of homes', () => {
      refused('/root');
      refused('/home/alice');
      refused('/home');
    });
    it('refuses system folders', () => {
      for (const dir of ['/etc', '/usr/local', '/var', '/var/lib', '/tmp']) refused(dir);
    });
    it('refuses the program folder and a folder that holds it', () => {
      const program = fileURLToPath(new URL('../../..', import.meta.url));
      refused(program);
      refused(dirname(program));
    });
    it('refuses a symlink to a refused folder', () => {
      const link = join(mkdtempSync(join(tmpdir(), 'data-link-')), 'data');
      symlinkSync('/etc', link);
      refused(link);
    });

    it('refuses the home folder of the user it runs as, wherever it is, but not a folder in it', () => {
      const home = mkdtempSync(join(tmpdir(), 'home-'));
      const saved = process.env.HOME;
      process.env.HOME = home;
      try {
        refused(home);
        const inside = join(home, 'pipeline');
        assert.equal(loadConfig({ env: { PIPELINE_DATA_DIR: inside }, cwd: tmpdir() }).dataDir, inside);
        // ~ is one of the refused folders: a list without it allows the home.
        const path = withYaml("pipeline:\n  data_dir_refused: ['/']\n");
        assert.equal(loadConfig({ env: { PIPELINE_CONFIG: path, PIPELINE_DATA_DIR: home } }).dataDir, home);
      } finally {
        process.env.HOME = saved;
      }
    });

    it('accepts a folder of its own, also below a refused one', () => {
      for (const dir of ['/var/lib/pipeline', '/home/alice/pipeline-data', join(tmpdir(), 'pipeline')])
        assert.equal(loadConfig({ env: { PIPELINE_DATA_DIR: dir }, cwd: tmpdir() }).dataDir, dir);
    });

    it('takes its list of refused folders from pipeline.data_dir_refused', () => {
      const path = withYaml("pipeline:\n  data_dir_refused: ['/srv/*']\n");
      refused('/srv/shared', { PIPELINE_CONFIG: path });
      assert.equal(loadConfig({ env: { PIPELINE_CONFIG: path, PIPELINE_DATA_DIR: '/etc' } }).dataDir, '/etc');
      assert.throws(
        () => loadConfig({ env: { PIPELINE_CONFIG: withYaml('pipeline:\n  data_dir_refused: [srv]\n') } }),
        /pipeline\.data_dir_refused\.0: expected an absolute path/,
      );
    });
  });

  it('refuses a pipeline.run_date_window whose earliest date is after today + max_days_ahead', () => {
    const path = withYaml("pipeline:\n  run_date_window: { earliest: '2025-01-10', max_days_ahead: 1 }\n");
    assert.throws(
      () => loadConfig({ env: { PIPELINE_CONFIG: path }, now: new Date('2025-01-08T12:00:00Z') }),
      /^ConfigError: Invalid configuration: pipeline\.run_date_window\.earliest: 2025-01-10 is after the latest run date the window allows today, 2025-01-09 .*every run would be refused/,
    );
    const config = loadConfig({ env: { PIPELINE_CONFIG: path }, now: new Date('2025-01-09T12:00:00Z') });
    assert.equal(config.pipeline.run_date_window.earliest, '2025-01-10');
  });

  it('names pipeline.run_date_window when its earliest date is not a date', () => {
    assert.throws(
      () =>
        loadConfig({
          env: { PIPELINE_CONFIG: withYaml('pipeline:\n  run_date_window: { earliest: epoch }\n') },
        }),
      /pipeline\.run_date_window\.earliest: expected a date YYYY-MM-DD/,
    );
    assert.throws(
      () =>
        loadConfig({
          env: { PIPELINE_CONFIG: withYaml("pipeline:\n  run_date_window: { earliest: '2025-02-30' } \n") },
        }),
      /pipeline\.run_date_window\.earliest: expected a real calendar date/,
    );
  });
});
