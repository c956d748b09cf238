import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { copyTemplate, isUsableTemplate, TEMPLATE_DIR } from './data-dir-template.js';
import { EmbeddedDatabase } from './embedded.database.js';

const scratch = mkdtempSync(join(tmpdir(), 'embedded-spec-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
const folder = (): string => join(scratch, `db-${++folders}`);

/** initdb's system identifier, which a copy of a database's files keeps: the first 8 bytes of pg_control. */
function systemIdentifierOf(pgdata: string): string {
  return readFileSync(join(pgdata, 'global', 'pg_control'))
    .readBigUInt64LE(0)
    .toString();
}

async function systemIdentifier(db: EmbeddedDatabase): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(
    'SELECT system_identifier::text AS id FROM pg_control_system()',
  );
  return rows[0]!.id;
}

describe('a fresh embedded database', () => {
  test('the build leaves a template made by the installed PGlite', () => {
    assert.ok(isUsableTemplate(), `no usable template in ${TEMPLATE_DIR}: run npm run build`);
  });

  test('starts as a copy of the template (no initdb in the daemon) and leaves no scratch folder', async () => {
    const dir = folder();
    const db = await EmbeddedDatabase.open({ dir, poolSize: 2 });
    try {
      assert.equal(await systemIdentifier(db), systemIdentifierOf(TEMPLATE_DIR));
      assert.ok(!existsSync(join(dir, 'pgdata.partial')));
      const { rows } = await db.pool.query<{ size: string }>(
        "SELECT current_setting('shared_buffers') AS size",
      );
      assert.equal(rows[0]!.size, '32MB', 'the default shared_buffers');
    } finally {
      await db.close();
    }
  });

  test('reopened, it is the same database with what was written, and shared_buffers as configured', async () => {
    const dir = folder();
    let first = await EmbeddedDatabase.open({ dir, poolSize: 2 });
    await first.pool.query('CREATE TABLE kept AS SELECT 42 AS answer');
    await first.close();
    first = await EmbeddedDatabase.open({ dir, poolSize: 2, sharedBuffersMb: 48 });
    try {
      const { rows } = await first.pool.query<{ answer: number }>('SELECT answer FROM kept');
      assert.deepEqual(rows, [{ answer: 42 }]);
      const setting = await first.pool.query<{ size: string }>(
        "SELECT current_setting('shared_buffers') AS size",
      );
      assert.equal(setting.rows[0]!.size, '48MB');
    } finally {
      await first.close();
    }
  });

  test('without a usable template (made by another PGlite), it is initialised by initdb instead', async () => {
    const stale = join(scratch, 'stale-template');
    cpSync(TEMPLATE_DIR, stale, { recursive: true });
    writeFileSync(join(stale, 'pipeline-template.json'), '{"pglite":"0.0.1"}\n');
    assert.equal(isUsableTemplate(stale), false);
    const db = await EmbeddedDatabase.open({ dir: folder(), poolSize: 2, templateDir: stale });
    try {
      assert.notEqual(await systemIdentifier(db), systemIdentifierOf(stale));
      const { rows } = await db.pool.query<{ one: number }>('SELECT 1 AS one');
      assert.deepEqual(rows, [{ one: 1 }]);
    } finally {
      await db.close();
    }
  });

  test('a scratch folder left by a start that was stopped half-way is made anew', async () => {
    const dir = folder();
    mkdirSync(join(dir, 'pgdata.partial', 'base'), { recursive: true });
    writeFileSync(join(dir, 'pgdata.partial', 'PG_VERSION'), 'broken');
    const db = await EmbeddedDatabase.open({ dir, poolSize: 2 });
    try {
      assert.equal(await systemIdentifier(db), systemIdentifierOf(TEMPLATE_DIR));
    } finally {
      await db.close();
    }
  });

  test('a database folder holding other files is refused by name, and left as it was', async () => {
    const dir = folder();
    mkdirSync(join(dir, 'pgdata'), { recursive: true });
    writeFileSync(join(dir, 'pgdata', 'notes.txt'), 'mine');
    await assert.rejects(
      EmbeddedDatabase.open({ dir, poolSize: 2 }),
      (error: Error) => error.message.includes(join(dir, 'pgdata')) && /no database/.test(error.message),
    );
    assert.equal(readFileSync(join(dir, 'pgdata', 'notes.txt'), 'utf8'), 'mine');
    // The lock is released: the folder can be opened once the files are moved away.
    rmSync(join(dir, 'pgdata'), { recursive: true });
    const db = await EmbeddedDatabase.open({ dir, poolSize: 2 });
    await db.close();
  });
});

describe('the template', () => {
  test('is not used when its stamp is missing or names another PGlite version', () => {
    const copy = join(scratch, 'unstamped');
    cpSync(TEMPLATE_DIR, copy, { recursive: true });
    rmSync(join(copy, 'pipeline-template.json'));
    assert.equal(isUsableTemplate(copy), false);
    assert.equal(copyTemplate(join(scratch, 'never'), copy), false);
    assert.ok(!existsSync(join(scratch, 'never')));
  });

  test('is copied without its stamp, and never over an existing folder', () => {
    const target = join(scratch, 'copied');
    assert.equal(copyTemplate(target), true);
    assert.ok(existsSync(join(target, 'PG_VERSION')));
    assert.ok(!existsSync(join(target, 'pipeline-template.json')));
    assert.throws(() => copyTemplate(target));
  });
});
