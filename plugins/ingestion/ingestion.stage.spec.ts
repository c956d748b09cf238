import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
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
import { PermanentError, RetryableError, stageOptionsOf, type StageResult } from '@pipeline/kernel';
import { createTestBed, postgresUnavailable, type Database, type TestBed } from '@pipeline/kernel/testing';
import dataGeneration from '@pipeline/plugin-data-generation';
import ingestion from './index.js';
import type { IngestionSettings } from './ingestion.config.js';
import type { IngestionSummary } from './ingestion-summary.js';
import { IngestionStage, SUMMARY_FILE } from './ingestion.stage.js';

const GOOD: Readonly<Record<string, string>> = {
  'customers.csv':
    'customer_id,first_name,last_name,email,phone,registration_date,city,state,country,age_group\n' +
    'CUST0001,Ada,Lovelace,ada@example.com,555-0101,2024-01-05,London,LDN,UK,25-34\n' +
    'CUST0002,Alan,Turing,alan@example.com,555-0102,2024-02-10,Wilmslow,CHS,UK,35-44\n' +
    'CUST0003,Grace,Hopper,grace@example.com,555-0103,2024-03-15,Arlington,VA,USA,45-54\n',
  'products.csv':
    'product_id,product_name,category,sub_category,price,cost,brand,stock_quantity,supplier_id\n' +
    'PROD0001,Laptop,Electronics,Computers,999.99,700.00,Acme,10,SUP001\n' +
    'PROD0002,"Mug, large",Home & Kitchen,Kitchen,12.50,4.00,Brewco,200,SUP002\n',
  'transactions.csv':
    'transaction_id,customer_id,transaction_date,transaction_time,payment_method,shipping_address,total_amount\n' +
    'TXN00001,CUST0001,2024-04-01,10:15:00,Credit Card,"1 Main St, London",1012.49\n' +
    'TXN00002,CUST0002,2024-04-02,18:30:00,UPI,"2 High St, Wilmslow",25.00\n',
  'transaction_items.csv':
    'item_id,transaction_id,product_id,quantity,unit_price,discount_percentage,line_total\n' +
    'ITEM00001,TXN00001,PROD0001,1,999.99,0,999.99\n' +
    'ITEM00002,TXN00001,PROD0002,1,12.50,0,12.50\n' +
    'ITEM00003,TXN00002,PROD0002,2,12.50,0,25.00\n',
};

const TABLES = ['staging.customers', 'staging.products', 'staging.transactions', 'staging.transaction_items'];
const RUN_DATE = '2025-01-01';
const stageOptions = stageOptionsOf(IngestionStage)!;

/** Count and checksum of every row (loaded_at included: a rolled-back reload must not touch it). */
async function stagingSnapshot(db: Database): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  for (const table of TABLES) {
    const { rows } = await db.pool.query<{ n: string; sum: string | null }>(
      `SELECT count(*)::text AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS sum FROM ${table} t`,
    );
    snapshot[table] = `${rows[0]!.n}:${rows[0]!.sum}`;
  }
  return snapshot;
}

const databaseKinds = [
  { kind: 'postgres', skip: await postgresUnavailable() },
  { kind: 'embedded', skip: false },
] as const;

for (const { kind, skip } of databaseKinds) {
  describe(`ingestion stage on ${kind}`, { skip }, () => {
    let test: TestBed;
    let dataDir: string;
    let raw: string;
    const stage = new IngestionStage();

    before(async () => {
      // Tiny chunks make the embedded loader split every file into several COPYs.
      test = await createTestBed({
        plugins: [dataGeneration, ingestion],
        database: kind,
        ...(kind === 'embedded' ? { copyChunkBytes: 100 } : {}),
      });
    });
    after(async () => {
      await test?.dispose();
    });

    /**
     * A fresh data folder holding the good files in the run date's input folder
     * (`raw/2025-01-01/`, the kit's default run date), with `changes` written over them.
     */
    function dataWith(changes: Readonly<Record<string, string | Buffer | null>> = {}): void {
      dataDir = mkdtempSync(join(tmpdir(), 'ingestion-'));
      raw = join(dataDir, 'raw', RUN_DATE);
      mkdirSync(raw, { recursive: true });
      for (const [file, text] of Object.entries({ ...GOOD, ...changes })) {
        if (text !== null) writeFileSync(join(raw, file), text);
      }
    }

    function runStage(config: Record<string, unknown> = {}, runDate = RUN_DATE): Promise<StageResult> {
      const ctx = test.context<IngestionSettings>(stageOptions.name, { dataDir, config, runDate });
      return stage.run(ctx);
    }

    function fingerprintOf(runDate: string, config: Record<string, unknown> = {}): Promise<string | null> {
      const ctx = test.context<IngestionSettings>(stageOptions.name, { dataDir, config, runDate });
      return stage.inputFingerprint(ctx);
    }

    function summary(): IngestionSummary {
      return JSON.parse(readFileSync(join(dataDir, 'processed', SUMMARY_FILE), 'utf8')) as IngestionSummary;
    }

    it('loads the four files into staging and reports rows read and written per table', async () => {
      dataWith();
      const result = await runStage();
      assert.deepEqual(result.rows, [
        { table: 'staging.customers', read: 3, written: 3 },
        { table: 'staging.products', read: 2, written: 2 },
        { table: 'staging.transactions', read: 2, written: 2 },
        { table: 'staging.transaction_items', read: 3, written: 3 },
      ]);
      assert.deepEqual(result.files, [join('processed', SUMMARY_FILE)]);
      // The quality gate names these files when their dates do not fit the run's.
      assert.deepEqual(result.outputs?.['staged-input'], {
        files: {
          'staging.customers': join('raw', RUN_DATE, 'customers.csv'),
          'staging.products': join('raw', RUN_DATE, 'products.csv'),
          'staging.transactions': join('raw', RUN_DATE, 'transactions.csv'),
          'staging.transaction_items': join('raw', RUN_DATE, 'transaction_items.csv'),
        },
      });
      const { rows } = await test.db.pool.query(
        'SELECT product_id, product_name, price::text, stock_quantity FROM staging.products ORDER BY product_id',
      );
      assert.deepEqual(rows, [
        { product_id: 'PROD0001', product_name: 'Laptop', price: '999.99', stock_quantity: 10 },
        { product_id: 'PROD0002', product_name: 'Mug, large', price: '12.50', stock_quantity: 200 },
      ]);
      const written = summary();
      assert.equal(written.status, 'succeeded');
      assert.equal(written.error, null);
      assert.deepEqual(
        written.tables.map((t) => [
          t.table,
          t.file,
          t.bytes,
          t.rows_in_file,
          t.rows_loaded,
          t.status,
          t.error,
        ]),
        [
          [
            'staging.customers',
            join('raw', RUN_DATE, 'customers.csv'),
            Buffer.byteLength(GOOD['customers.csv']!),
            3,
            3,
            'loaded',
            null,
          ],
          [
            'staging.products',
            join('raw', RUN_DATE, 'products.csv'),
            Buffer.byteLength(GOOD['products.csv']!),
            2,
            2,
            'loaded',
            null,
          ],
          [
            'staging.transactions',
            join('raw', RUN_DATE, 'transactions.csv'),
            Buffer.byteLength(GOOD['transactions.csv']!),
            2,
            2,
            'loaded',
            null,
          ],
          [
            'staging.transaction_items',
            join('raw', RUN_DATE, 'transaction_items.csv'),
            Buffer.byteLength(GOOD['transaction_items.csv']!),
            3,
            3,
            'loaded',
            null,
          ],
        ],
      );
      assert.ok(written.tables.every((t) => typeof t.duration_ms === 'number'));
    });

    it('replaces the previous staging contents instead of adding to them', async () => {
      dataWith();
      await runStage();
      await runStage();
      const { rows } = await test.db.pool.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM staging.transaction_items',
      );
      assert.equal(rows[0]!.n, '3');
    });

    it('loads files another tool wrote: BOM, CRLF, every field quoted, columns reordered, quoted newlines, trailing empty lines', async () => {
      dataWith({
        'customers.csv':
          '\ufeff"email","customer_id","first_name","last_name","phone","registration_date","city","state","country","age_group"\r\n' +
          '"ada@example.com","CUST0001","Ada","Love""lace","555-0101","2024-01-05","London","LDN","UK","25-34"\r\n' +
          '"alan@example.com","CUST0002","Alan","Turing","555-0102","2024-02-10","Wilms\r\nlow","CHS","UK","35-44"\r\n' +
          '\r\n\r\n',
        'transactions.csv':
          'total_amount,transaction_id,customer_id,transaction_date,transaction_time,payment_method,shipping_address\n' +
          '1012.49,TXN00001,CUST0001,2024-04-01,10:15:00,Credit Card,"1 Main St\nFlat 2\nLondon"\n' +
          '25.00,TXN00002,CUST0002,2024-04-02,18:30:00,UPI,2 High St\n',
      });
      const result = await runStage();
      assert.deepEqual(result.rows?.slice(0, 1), [{ table: 'staging.customers', read: 2, written: 2 }]);
      const customers = await test.db.pool.query(
        `SELECT customer_id, email, last_name, city, to_char(registration_date, 'YYYY-MM-DD') AS registered FROM staging.customers ORDER BY customer_id`,
      );
      assert.deepEqual(customers.rows, [
        {
          customer_id: 'CUST0001',
          email: 'ada@example.com',
          last_name: 'Love"lace',
          city: 'London',
          registered: '2024-01-05',
        },
        {
          customer_id: 'CUST0002',
          email: 'alan@example.com',
          last_name: 'Turing',
          city: 'Wilms\r\nlow',
          registered: '2024-02-10',
        },
      ]);
      const transactions = await test.db.pool.query(
        'SELECT transaction_id, shipping_address, total_amount::text FROM staging.transactions ORDER BY transaction_id',
      );
      assert.deepEqual(transactions.rows, [
        {
          transaction_id: 'TXN00001',
          shipping_address: '1 Main St\nFlat 2\nLondon',
          total_amount: '1012.49',
        },
        { transaction_id: 'TXN00002', shipping_address: '2 High St', total_amount: '25.00' },
      ]);
    });

    it('reads from ingestion.input_dir, relative to the data folder', async () => {
      dataWith();
      const incoming = join(dataDir, 'incoming', RUN_DATE);
      mkdirSync(incoming, { recursive: true });
      for (const [file, text] of Object.entries(GOOD))
        writeFileSync(join(incoming, file), text.replace('Ada', 'Augusta'));
      rmSync(join(raw, 'customers.csv'));
      await runStage({ ingestion: { input_dir: 'incoming' } });
      const { rows } = await test.db.pool.query(
        "SELECT first_name FROM staging.customers WHERE customer_id = 'CUST0001'",
      );
      assert.deepEqual(rows, [{ first_name: 'Augusta' }]);
      assert.equal(summary().input_dir, join('incoming', RUN_DATE));
    });

    it('files a flat inbox under the run date, so that the next date does not load the same files', async () => {
      dataWith();
      const inbox = join(dataDir, 'raw');
      for (const file of Object.keys(GOOD)) renameSync(join(raw, file), join(inbox, file));
      rmSync(raw, { recursive: true });
      writeFileSync(join(inbox, 'generation_metadata.json'), '{}');

      await runStage({}, '2025-01-04');
      assert.deepEqual(readdirSync(join(inbox, '2025-01-04')).sort(), [
        'customers.csv',
        'generation_metadata.json',
        'products.csv',
        'transaction_items.csv',
        'transactions.csv',
      ]);
      assert.deepEqual(readdirSync(inbox), ['2025-01-04']);
      assert.equal(summary().input_dir, join('raw', '2025-01-04'));

      await assert.rejects(runStage({}, '2025-01-05'), (error: unknown) => {
        assert.ok(error instanceof PermanentError);
        assert.equal(
          error.message,
          `no input for business date 2025-01-05: put its four CSV files in ${join(inbox, '2025-01-05')}/ (or in ${inbox}/ to load them as 2025-01-05)`,
        );
        return true;
      });
    });

    it("fingerprints a date's files as the run reads them, and notices a change", async () => {
      dataWith();
      const result = await runStage();
      assert.match(result.inputFingerprint ?? '', /^[0-9a-f]{64}$/);
      assert.equal(await fingerprintOf(RUN_DATE), result.inputFingerprint);
      assert.equal(await fingerprintOf('2025-01-02'), null, 'a date without a folder of its own');
      writeFileSync(join(raw, 'transactions.csv'), GOOD['transactions.csv']!.replace('25.00', '26.00'));
      assert.notEqual(await fingerprintOf(RUN_DATE), result.inputFingerprint);
    });

    const rawPath = (file: string): string => join(raw, file);
    const CUSTOMERS_HEADER = GOOD['customers.csv']!.split('\n')[0]!;

    // Each bad set: the files to change, and the exact start of the error message (after the path).
    const catalogue: ReadonlyArray<{
      title: string;
      file: string;
      changes: Record<string, string | Buffer | null>;
      expected: string;
    }> = [
      {
        title: 'a missing file',
        file: 'products.csv',
        changes: { 'products.csv': null },
        expected: ': missing input file',
      },
      {
        title: 'a missing header column',
        file: 'customers.csv',
        changes: {
          'customers.csv':
            CUSTOMERS_HEADER.replace(',email', '') +
            '\nCUST0001,Ada,Lovelace,555-0101,2024-01-05,London,LDN,UK,25-34\n',
        },
        expected: ', line 1: missing column "email"',
      },
      {
        title: 'an extra header column',
        file: 'products.csv',
        changes: { 'products.csv': GOOD['products.csv']!.replace('supplier_id\n', 'supplier_id,colour\n') },
        expected: ', line 1: unexpected column "colour"',
      },
      {
        title: 'a duplicated header column',
        file: 'transaction_items.csv',
        changes: {
          'transaction_items.csv': GOOD['transaction_items.csv']!.replace(
            'line_total\n',
            'line_total,quantity\n',
          ),
        },
        expected: ', line 1: column "quantity" appears more than once',
      },
      {
        title: 'a quantity that is not a number',
        file: 'transaction_items.csv',
        changes: {
          'transaction_items.csv': GOOD['transaction_items.csv']!.replace(
            'TXN00002,PROD0002,2,',
            'TXN00002,PROD0002,abc,',
          ),
        },
        expected: ', line 4, column quantity: invalid input syntax for type integer: "abc"',
      },
      {
        title: 'an impossible date',
        file: 'transactions.csv',
        changes: { 'transactions.csv': GOOD['transactions.csv']!.replace('2024-04-02', '2024-13-45') },
        expected: ', line 3, column transaction_date: date/time field value out of range: "2024-13-45"',
      },
      {
        title: 'an impossible date on a line after a quoted newline',
        file: 'customers.csv',
        changes: {
          'customers.csv': GOOD['customers.csv']!.replace('Wilmslow', '"Wilms\nlow"').replace(
            '2024-03-15',
            '2024-13-45',
          ),
        },
        expected: ', line 5, column registration_date: date/time field value out of range: "2024-13-45"',
      },
      {
        title: 'an impossible date inside a record that spans lines',
        file: 'customers.csv',
        changes: {
          'customers.csv': GOOD['customers.csv']!.replace('Wilmslow', '"Wilms\nlow"').replace(
            '2024-02-10',
            '2024-13-45',
          ),
        },
        expected:
          ', line 3 (a record spanning lines 3-4), column registration_date: date/time field value out of range: "2024-13-45"',
      },
      {
        title: 'an impossible date after a quoted newline in the first row',
        file: 'customers.csv',
        changes: {
          'customers.csv': GOOD['customers.csv']!.replace('London', '"Lon\ndon"').replace(
            '2024-03-15',
            '2024-13-45',
          ),
        },
        expected: ', line 5, column registration_date: date/time field value out of range: "2024-13-45"',
      },
      {
        title: 'an impossible date in a CRLF file after a quoted LF',
        file: 'customers.csv',
        changes: {
          'customers.csv': GOOD['customers.csv']!.replace('Wilmslow', '"Wilms\nlow"')
            .replace('2024-03-15', '2024-13-45')
            .replaceAll('\n', '\r\n')
            .replace('Wilms\r\nlow', 'Wilms\nlow'),
        },
        expected: ', line 5, column registration_date: date/time field value out of range: "2024-13-45"',
      },
      {
        title: 'bytes that are not UTF-8',
        file: 'customers.csv',
        changes: {
          'customers.csv': Buffer.from(
            GOOD['customers.csv']!.replace('Grace', 'Gr\u0000ce').replace('\u0000', '\u00ff'),
            'latin1',
          ),
        },
        expected: ', line 4: invalid byte sequence for encoding "UTF8": 0xff',
      },
      {
        title: 'a header without data rows',
        file: 'products.csv',
        changes: { 'products.csv': GOOD['products.csv']!.split('\n')[0]! + '\n\n' },
        expected: ', line 2: no data rows (the file holds only a header)',
      },
      {
        title: 'an empty file',
        file: 'transactions.csv',
        changes: { 'transactions.csv': '' },
        expected: ', line 1: the file is empty (expected a header line)',
      },
      {
        title: 'a row with a column too few',
        file: 'transactions.csv',
        changes: {
          'transactions.csv': GOOD['transactions.csv']!.replace(
            ',"2 High St, Wilmslow",25.00',
            ',"2 High St, Wilmslow"',
          ),
        },
        expected: ', line 3, column total_amount: missing data for column "total_amount"',
      },
      {
        title: 'a row with a column too many',
        file: 'transaction_items.csv',
        changes: {
          'transaction_items.csv': GOOD['transaction_items.csv']!.replace('12.50,0,12.50', '12.50,0,12.50,9'),
        },
        expected: ', line 3: extra data after last expected column',
      },
      {
        title: 'an empty line between rows',
        file: 'customers.csv',
        changes: { 'customers.csv': GOOD['customers.csv']!.replace('\nCUST0002', '\n\nCUST0002') },
        expected: ', line 3, column first_name: missing data for column "first_name" (an empty line)',
      },
      {
        title: 'an unterminated quote',
        file: 'transactions.csv',
        changes: {
          'transactions.csv': GOOD['transactions.csv']!.replace(
            '"2 High St, Wilmslow"',
            '"2 High St, Wilmslow',
          ),
        },
        expected: ', line 3: unterminated quoted field',
      },
      {
        title: 'a value longer than an excerpt (never quoted whole: errors leave the process)',
        file: 'customers.csv',
        changes: {
          'customers.csv': GOOD['customers.csv']!.replace('2024-02-10', '"pa""ss\u001bword-of-root"'),
        },
        expected:
          ', line 3, column registration_date: invalid input syntax for type date: "pa\\"ss\\x1bword…"',
      },
      {
        title: 'the header of another file (only an excerpt of it is quoted)',
        file: 'customers.csv',
        changes: { 'customers.csv': 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/false\n' },
        expected: ', line 1: unexpected column "root:x:0:0…"; missing column "customer_id"',
      },
      {
        title: 'a carriage return without a line feed ending a line',
        file: 'customers.csv',
        changes: { 'customers.csv': GOOD['customers.csv']!.replace('25-34\n', '25-34\r') },
        expected: ', line 2: a carriage return (CR) without a line feed outside quotes',
      },
      {
        title: 'a carriage return without a line feed in a CRLF file',
        file: 'transactions.csv',
        changes: {
          'transactions.csv': GOOD['transactions.csv']!.replaceAll('\n', '\r\n').replace(
            'Credit Card',
            'Credit\rCard',
          ),
        },
        expected: ', line 2: a carriage return (CR) without a line feed outside quotes',
      },
      {
        title: 'line ends that mix CRLF and LF',
        file: 'customers.csv',
        changes: { 'customers.csv': GOOD['customers.csv']!.replace('25-34\n', '25-34\r\n') },
        expected:
          ', line 2: the line ends with CRLF, but the header line ends with LF (use one kind throughout the file)',
      },
    ];

    for (const { title, file, changes, expected } of catalogue) {
      it(`fails on ${title}, naming the file and line, and leaves staging as it was`, async () => {
        dataWith();
        await runStage();
        const before = await stagingSnapshot(test.db);
        dataWith(changes);
        await assert.rejects(runStage(), (error: unknown) => {
          assert.ok(error instanceof PermanentError, `expected a PermanentError, got ${String(error)}`);
          assert.ok(
            error.message.startsWith(rawPath(file) + expected),
            `unexpected message: ${error.message}`,
          );
          return true;
        });
        assert.deepEqual(await stagingSnapshot(test.db), before);
        const written = summary();
        assert.equal(written.status, 'failed');
        const failed = written.tables.filter((t) => t.status === 'failed');
        assert.deepEqual(
          failed.map((t) => t.file),
          [join('raw', RUN_DATE, file)],
        );
        assert.ok(written.tables.every((t) => t.rows_loaded === 0));
      });
    }

    it('marks the files loaded before the failing one as rolled back in the summary', async () => {
      dataWith({ 'transaction_items.csv': GOOD['transaction_items.csv']!.replace(',2,12.50', ',x,12.50') });
      await assert.rejects(runStage(), PermanentError);
      assert.deepEqual(
        summary().tables.map((t) => [t.table, t.status, t.rows_in_file]),
        [
          ['staging.customers', 'rolled_back', 3],
          ['staging.products', 'rolled_back', 2],
          ['staging.transactions', 'rolled_back', 2],
          ['staging.transaction_items', 'failed', null],
        ],
      );
    });

    it('fails when COPY loads fewer rows than the file holds, and leaves staging as it was', async () => {
      dataWith();
      await runStage();
      const before = await stagingSnapshot(test.db);
      // PostgreSQL 15 ends COPY input at a line holding only \. and reports success; the
      // embedded PostgreSQL 18 reads it as a row, so there the row itself is the error.
      dataWith({ 'customers.csv': GOOD['customers.csv']!.replace('\nCUST0002', '\n\\.\nCUST0002') });
      const expected =
        kind === 'postgres'
          ? `${rawPath('customers.csv')}: the file holds 4 records, but staging.customers received 1 rows`
          : `${rawPath('customers.csv')}, line 3, column first_name: missing data for column "first_name"`;
      await assert.rejects(runStage(), (error: unknown) => {
        assert.ok(error instanceof PermanentError);
        assert.equal(error.message, expected);
        return true;
      });
      assert.deepEqual(await stagingSnapshot(test.db), before);
    });

    it('passes the checkpoint ingestion:loaded inside the transaction, after all four loads', async () => {
      dataWith();
      await runStage();
      const before = await stagingSnapshot(test.db);
      dataWith({ 'products.csv': GOOD['products.csv']!.replace('Laptop', 'Notebook') });
      const points: string[] = [];
      const ctx = test.context<IngestionSettings>(stageOptions.name, { dataDir });
      const crashing = {
        ...ctx,
        checkpoint: async (point: string) => {
          points.push(point);
          if (point === 'ingestion:loaded') throw new Error(`fault injected at ${point}`);
        },
      };
      await assert.rejects(stage.run(crashing), /fault injected at ingestion:loaded/);
      assert.deepEqual(points, ['ingestion:opened', 'ingestion:loaded']);
      assert.deepEqual(await stagingSnapshot(test.db), before);
      assert.deepEqual(
        summary().tables.map((t) => t.status),
        ['rolled_back', 'rolled_back', 'rolled_back', 'rolled_back'],
      );
    });

    it('refuses an input_dir outside the data folder', async () => {
      dataWith();
      await assert.rejects(runStage({ ingestion: { input_dir: '../elsewhere' } }), (error: unknown) => {
        assert.ok(error instanceof PermanentError);
        assert.match(
          error.message,
          /^ingestion\.input_dir "\.\.\/elsewhere" resolves to .*, outside the data folder /,
        );
        return true;
      });
    });

    it('refuses a file that is a symlink to a place outside the data folder', async () => {
      dataWith();
      const outside = mkdtempSync(join(tmpdir(), 'ingestion-outside-'));
      writeFileSync(join(outside, 'customers.csv'), GOOD['customers.csv']!);
      rmSync(rawPath('customers.csv'));
      symlinkSync(join(outside, 'customers.csv'), rawPath('customers.csv'));
      await assert.rejects(runStage(), (error: unknown) => {
        assert.ok(error instanceof PermanentError);
        assert.ok(
          error.message.startsWith(
            `${rawPath('customers.csv')}: refused, it resolves to ${join(outside, 'customers.csv')}, outside the data folder`,
          ),
          error.message,
        );
        return true;
      });
      rmSync(outside, { recursive: true, force: true });
    });

    // Each replaces customers.csv with something that is not a regular file with one name.
    const notPlainFiles: ReadonlyArray<{ title: string; make: (path: string) => Promise<void>; is: string }> =
      [
        {
          title: 'a named pipe, which would wait for a writer forever if opened',
          make: async (path) => execFileSync('mkfifo', [path]) as unknown as void,
          is: 'refused, it is a named pipe (FIFO), not a regular file',
        },
        {
          title: 'a socket',
          make: async (path) => {
            const server = createServer();
            await new Promise<void>((resolve) => server.listen(path, resolve));
            // Closing the server removes its file; unref keeps it from holding the test open.
            server.unref();
          },
          is: 'refused, it is a socket, not a regular file',
        },
        {
          title: 'a directory',
          make: async (path) => mkdirSync(path),
          is: 'refused, it is a directory, not a regular file',
        },
        {
          title: 'a symlink to a directory inside the data folder',
          make: async (path) => {
            mkdirSync(join(dataDir, 'elsewhere'));
            symlinkSync(join(dataDir, 'elsewhere'), path);
          },
          is: 'refused, it is a directory, not a regular file',
        },
        {
          title: 'a hard link (its other name may lie outside the data folder)',
          make: async (path) => {
            const other = join(mkdtempSync(join(tmpdir(), 'ingestion-linked-')), 'customers.csv');
            writeFileSync(other, GOOD['customers.csv']!);
            linkSync(other, path);
          },
          is: 'refused, it has 2 hard links',
        },
      ];

    for (const { title, make, is } of notPlainFiles) {
      it(`refuses ${title} by name, before opening it, as a permanent error`, async () => {
        dataWith();
        await runStage();
        const before = await stagingSnapshot(test.db);
        rmSync(rawPath('customers.csv'));
        await make(rawPath('customers.csv'));
        await assert.rejects(runStage(), (error: unknown) => {
          assert.ok(error instanceof PermanentError, `expected a PermanentError, got ${String(error)}`);
          assert.ok(error.message.startsWith(`${rawPath('customers.csv')}: ${is}`), error.message);
          return true;
        });
        assert.deepEqual(await stagingSnapshot(test.db), before);
      });
    }

    // Each changes transaction_items.csv in place after it was opened, before it is read.
    const rewrites: ReadonlyArray<{ title: string; rewrite: (path: string) => void; says: RegExp }> = [
      {
        title: 'rewritten in place with the same size',
        rewrite: (path) => writeFileSync(path, readFileSync(path, 'utf8').replace('999.99', '111.11')),
        says: /changed while it was read \(modified\)/,
      },
      {
        title: 'appended to',
        rewrite: (path) => appendFileSync(path, 'ITEM00004,TXN00002,PROD0001,1,999.99,0,999.99\n'),
        says: /changed while it was read \(size \d+ -> \d+ bytes, modified\)/,
      },
      {
        title: 'truncated',
        rewrite: (path) => truncateSync(path, 100),
        says: /changed while it was read \(size \d+ -> 100 bytes, modified\)/,
      },
    ];

    for (const { title, rewrite, says } of rewrites) {
      it(`fails naming a file ${title} while it is read (retryable), and leaves staging as it was`, async () => {
        dataWith();
        await runStage();
        const before = await stagingSnapshot(test.db);
        dataWith({ 'products.csv': GOOD['products.csv']!.replace('Laptop', 'Notebook') });
        const ctx = test.context<IngestionSettings>(stageOptions.name, { dataDir });
        const rewriting = {
          ...ctx,
          checkpoint: async (point: string) => {
            if (point === 'ingestion:opened') rewrite(rawPath('transaction_items.csv'));
          },
        };
        await assert.rejects(stage.run(rewriting), (error: unknown) => {
          assert.ok(error instanceof RetryableError, `expected a RetryableError, got ${String(error)}`);
          assert.ok(error.message.startsWith(`${rawPath('transaction_items.csv')}: `), error.message);
          assert.match(error.message, says);
          return true;
        });
        assert.deepEqual(await stagingSnapshot(test.db), before);
      });
    }
  });
}
