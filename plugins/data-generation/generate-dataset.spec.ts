import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { PermanentError } from '@pipeline/kernel';
import { dataGenerationConfigSchema } from './data-generation.config.js';
import { generateDataset, METADATA_FILE, RAW_FILES, type GenerationMetadata } from './generate-dataset.js';

type Row = Record<string, string>;
interface Output {
  readonly dir: string;
  readonly metadata: GenerationMetadata;
  readonly customers: Row[];
  readonly products: Row[];
  readonly transactions: Row[];
  readonly items: Row[];
}

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const SMALL = { customers: 300, products: 120, transactions: 2_000 };

async function generate(config: Record<string, unknown>, runDate = '2025-01-01'): Promise<Output> {
  const dir = mkdtempSync(join(tmpdir(), 'generation-spec-'));
  dirs.push(dir);
  const settings = dataGenerationConfigSchema.parse({ ...SMALL, ...config });
  const { metadata } = await generateDataset({
    settings,
    runDate,
    rawDir: dir,
    signal: new AbortController().signal,
  });
  const read = (name: string) => parse(readFileSync(join(dir, name), 'utf8'), { columns: true }) as Row[];
  return {
    dir,
    metadata,
    customers: read(RAW_FILES.customers.name),
    products: read(RAW_FILES.products.name),
    transactions: read(RAW_FILES.transactions.name),
    items: read(RAW_FILES.transactionItems.name),
  };
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const fileHashes = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => [name, sha256(join(dir, name))]),
  );

/** "12.34" -> 1234n, independently of the generator's own arithmetic. */
function cents(text: string): bigint {
  const match = /^(\d+)\.(\d{2})$/.exec(text);
  assert.ok(match, `not a two-decimal amount: ${text}`);
  return BigInt(match[1]!) * 100n + BigInt(match[2]!);
}
/** "12.5" -> 1250n hundredths of a percent. */
function hundredths(text: string): bigint {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'));
}
/** round(q * price * (1 - d/100), 2) in cents, half away from zero, on the exact rational. */
function expectedLineTotal(quantity: string, unitPrice: string, discount: string): bigint {
  const numerator = BigInt(quantity) * cents(unitPrice) * (10_000n - hundredths(discount));
  return (numerator * 2n + 10_000n) / 20_000n;
}

const byId = (rows: Row[], key: string) => new Map(rows.map((row) => [row[key]!, row]));

describe('full data set', () => {
  let out: Output;
  before(async () => {
    out = await generate({ discounts: [0, 5, 10, 12.5, 15, 33.33] });
  });

  it('writes the contract headers in the contract order, LF line ends and a final line end', () => {
    for (const file of Object.values(RAW_FILES)) {
      const text = readFileSync(join(out.dir, file.name), 'utf8');
      assert.equal(text.slice(0, text.indexOf('\n')), file.header.join(','));
      assert.ok(!text.includes('\r'), `${file.name} has a CR`);
      assert.ok(text.endsWith('\n'));
    }
    assert.deepEqual(
      readdirSync(out.dir).sort(),
      [...Object.values(RAW_FILES).map((f) => f.name), METADATA_FILE].sort(),
    );
  });

  it('writes the configured numbers of rows with sequential, zero-padded ids', () => {
    assert.equal(out.customers.length, 300);
    assert.equal(out.products.length, 120);
    assert.equal(out.transactions.length, 2_000);
    assert.equal(out.customers[0]!.customer_id, 'CUST0001');
    assert.equal(out.customers.at(-1)!.customer_id, 'CUST0300');
    assert.equal(out.products.at(-1)!.product_id, 'PROD0120');
    assert.equal(out.transactions[0]!.transaction_id, 'TXN00001');
    assert.equal(out.transactions.at(-1)!.transaction_id, 'TXN02000');
    out.items.forEach((item, i) => assert.equal(item.item_id, `ITEM${String(i + 1).padStart(5, '0')}`));
  });

  it('leaves no mandatory field empty', () => {
    for (const rows of [out.customers, out.products, out.transactions, out.items]) {
      for (const row of rows)
        for (const [key, value] of Object.entries(row)) assert.notEqual(value.trim(), '', `${key} empty`);
    }
  });

  it('keeps referential integrity: every customer, transaction and product id referenced exists', () => {
    const customers = byId(out.customers, 'customer_id');
    const products = byId(out.products, 'product_id');
    const transactions = byId(out.transactions, 'transaction_id');
    for (const t of out.transactions) assert.ok(customers.has(t.customer_id!), t.customer_id);
    for (const item of out.items) {
      assert.ok(transactions.has(item.transaction_id!), item.transaction_id);
      assert.ok(products.has(item.product_id!), item.product_id);
    }
    assert.equal(out.metadata.referential_integrity.valid, true);
  });

  it('computes every line total and transaction total exactly to the cent', () => {
    const products = byId(out.products, 'product_id');
    const totals = new Map<string, bigint>();
    const itemsPerTransaction = new Map<string, number>();
    for (const item of out.items) {
      assert.equal(
        cents(item.line_total!),
        expectedLineTotal(item.quantity!, item.unit_price!, item.discount_percentage!),
        item.item_id,
      );
      assert.equal(
        item.unit_price,
        products.get(item.product_id!)!.price,
        `${item.item_id} sells at the product's price`,
      );
      totals.set(item.transaction_id!, (totals.get(item.transaction_id!) ?? 0n) + cents(item.line_total!));
      itemsPerTransaction.set(item.transaction_id!, (itemsPerTransaction.get(item.transaction_id!) ?? 0) + 1);
    }
    for (const t of out.transactions) {
      assert.equal(cents(t.total_amount!), totals.get(t.transaction_id!), t.transaction_id);
      const count = itemsPerTransaction.get(t.transaction_id!)!;
      assert.ok(count >= 1 && count <= 5, `${t.transaction_id} has ${count} items`);
    }
  });

  it('uses every configured discount, quantity 1..3, and the configured payment methods', () => {
    assert.deepEqual([...new Set(out.items.map((i) => i.discount_percentage))].sort(), [
      '0',
      '10',
      '12.5',
      '15',
      '33.33',
      '5',
    ]);
    assert.deepEqual([...new Set(out.items.map((i) => i.quantity))].sort(), ['1', '2', '3']);
    assert.deepEqual([...new Set(out.transactions.map((t) => t.payment_method))].sort(), [
      'Cash on Delivery',
      'Credit Card',
      'Debit Card',
      'Net Banking',
      'UPI',
    ]);
  });

  it('gives every customer a unique email and every product a unique name', () => {
    assert.equal(new Set(out.customers.map((c) => c.email!.toLowerCase())).size, out.customers.length);
    assert.equal(new Set(out.products.map((p) => p.product_name)).size, out.products.length);
    for (const c of out.customers) assert.match(c.email!, /^[a-z]+\.[a-z]+\d+@[a-z0-9.-]+\.[a-z]+$/);
  });

  it('prices every product above its cost, within its category range, with stock and a supplier', () => {
    const categories = dataGenerationConfigSchema.parse({}).categories;
    for (const p of out.products) {
      const category = categories[p.category!];
      assert.ok(category, `unknown category ${p.category}`);
      assert.ok(category.sub_categories.includes(p.sub_category!), p.sub_category);
      assert.ok(cents(p.cost!) < cents(p.price!), `${p.product_id}: cost ${p.cost} >= price ${p.price}`);
      assert.ok(
        Number(p.price) >= category.min_price && Number(p.price) <= category.max_price,
        `${p.product_id} ${p.price}`,
      );
      assert.ok(Number.isInteger(Number(p.stock_quantity)) && Number(p.stock_quantity) >= 0);
      assert.match(p.supplier_id!, /^SUP\d{3}$/);
    }
    assert.equal(new Set(out.products.map((p) => p.category)).size, 6);
  });

  it('dates transactions inside the range, spread over the day, in id order', () => {
    let previous = '';
    for (const t of out.transactions) {
      assert.ok(
        t.transaction_date! >= '2024-01-01' && t.transaction_date! <= '2024-12-31',
        t.transaction_date,
      );
      assert.match(t.transaction_time!, /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/);
      const stamp = `${t.transaction_date} ${t.transaction_time}`;
      assert.ok(stamp >= previous, `${t.transaction_id} at ${stamp} is before ${previous}`);
      previous = stamp;
    }
    const hours = new Set(out.transactions.map((t) => t.transaction_time!.slice(0, 2)));
    assert.equal(hours.size, 24);
    assert.ok(out.transactions.filter((t) => t.transaction_time === '00:00:00').length < 5);
    assert.ok(new Set(out.transactions.map((t) => t.transaction_date)).size > 300);
  });

  it('fills customer fields with valid dates, places and age groups', () => {
    for (const c of out.customers) {
      assert.match(c.registration_date!, /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(
        c.registration_date! >= '2021-01-01' && c.registration_date! <= '2024-01-01',
        c.registration_date,
      );
      assert.ok(['18-25', '26-35', '36-45', '46-55', '56+'].includes(c.age_group!), c.age_group);
      assert.equal(c.country, 'USA');
      assert.match(c.phone!, /^\+1-\d{3}-\d{3}-\d{4}$/);
    }
  });

  it('records counts, range, seed, integrity and each file hash in generation_metadata.json', () => {
    const metadata = JSON.parse(readFileSync(join(out.dir, METADATA_FILE), 'utf8')) as GenerationMetadata;
    assert.equal(metadata.timestamp, '2025-01-01T00:00:00.000Z');
    assert.equal(metadata.seed, 42);
    assert.equal(metadata.mode, 'full');
    assert.deepEqual(metadata.date_range, { start: '2024-01-01', end: '2024-12-31' });
    assert.deepEqual(metadata.record_counts, {
      customers: 300,
      products: 120,
      transactions: 2_000,
      transaction_items: out.items.length,
    });
    assert.equal(metadata.referential_integrity.valid, true);
    for (const file of Object.values(RAW_FILES))
      assert.equal(metadata.files[file.name]!.sha256, sha256(join(out.dir, file.name)));
  });
});

describe('determinism', () => {
  it('writes byte-identical files for the same seed and config', async () => {
    const first = await generate({});
    const second = await generate({});
    assert.deepEqual(fileHashes(first.dir), fileHashes(second.dir));
  });

  it('writes different files for a different seed', async () => {
    const first = await generate({});
    const other = await generate({ seed: 43 });
    for (const file of Object.values(RAW_FILES))
      assert.notEqual(
        first.metadata.files[file.name]!.sha256,
        other.metadata.files[file.name]!.sha256,
        file.name,
      );
  });

  it('takes the metadata timestamp from reference_date when it is set, not from the clock', async () => {
    const out = await generate({ reference_date: '2024-12-31' }, '2026-03-01');
    assert.equal(out.metadata.timestamp, '2024-12-31T00:00:00.000Z');
  });
});

describe('daily mode', () => {
  let full: Output;
  let day1: Output;
  let day2: Output;
  let day3: Output;
  before(async () => {
    full = await generate({});
    day1 = await generate({ mode: 'daily' }, '2025-01-01');
    day2 = await generate({ mode: 'daily' }, '2025-01-02');
    day3 = await generate({ mode: 'daily' }, '2025-01-03');
  });

  it('continues transaction and item ids after the full set and after each earlier day', () => {
    const numberOf = (id: string) => Number(id.replace(/^\D+/, ''));
    let lastTransaction = numberOf(full.transactions.at(-1)!.transaction_id!);
    let lastItem = numberOf(full.items.at(-1)!.item_id!);
    for (const day of [day1, day2, day3]) {
      assert.ok(
        day.transactions.length > 200 && day.transactions.length < 400,
        `${day.transactions.length} transactions`,
      );
      assert.equal(numberOf(day.transactions[0]!.transaction_id!), lastTransaction + 1);
      assert.equal(numberOf(day.items[0]!.item_id!), lastItem + 1);
      lastTransaction = numberOf(day.transactions.at(-1)!.transaction_id!);
      lastItem = numberOf(day.items.at(-1)!.item_id!);
    }
  });

  it('dates every transaction on the run date', () => {
    assert.deepEqual([...new Set(day2.transactions.map((t) => t.transaction_date))], ['2025-01-02']);
  });

  it('moves about change_share of the customers to another city and reports each change', () => {
    const previous = byId(day1.customers, 'customer_id');
    const moved = day2.customers.filter((c) => {
      const before = previous.get(c.customer_id!);
      return before && (before.city !== c.city || before.state !== c.state);
    });
    assert.equal(moved.length, day2.metadata.daily!.customers.changed);
    assert.ok(moved.length >= 1 && moved.length <= 15, `${moved.length} of 300 moved (expected about 6)`);
    for (const c of moved) {
      const before = previous.get(c.customer_id!)!;
      assert.deepEqual(
        { ...c, city: before.city, state: before.state },
        before,
        'only city and state change',
      );
    }
  });

  it('changes the price or category of about change_share of the products, keeping cost below price', () => {
    const previous = byId(day1.products, 'product_id');
    const changed = day2.products.filter((p) => {
      const before = previous.get(p.product_id!);
      return before && (before.price !== p.price || before.category !== p.category);
    });
    assert.equal(changed.length, day2.metadata.daily!.products.changed);
    for (const p of day2.products) assert.ok(cents(p.cost!) < cents(p.price!), p.product_id);
  });

  it('drops members that disappeared and brings back members that return, as reported', () => {
    const ids = (rows: Row[], key: string) => new Set(rows.map((r) => r[key]!));
    for (const [yesterday, today] of [
      [day1, day2],
      [day2, day3],
    ] as const) {
      const before = ids(yesterday.customers, 'customer_id');
      const now = ids(today.customers, 'customer_id');
      assert.equal(
        [...before].filter((id) => !now.has(id)).length,
        today.metadata.daily!.customers.disappeared,
      );
      assert.equal([...now].filter((id) => !before.has(id)).length, today.metadata.daily!.customers.returned);
      assert.equal(now.size, 300 - today.metadata.daily!.customers.absent);
    }
  });

  it('references only customers and products present in that day’s snapshot, at their current price', () => {
    const customers = byId(day3.customers, 'customer_id');
    const products = byId(day3.products, 'product_id');
    for (const t of day3.transactions) assert.ok(customers.has(t.customer_id!), t.customer_id);
    for (const item of day3.items) {
      assert.ok(products.has(item.product_id!), item.product_id);
      assert.equal(item.unit_price, products.get(item.product_id!)!.price);
    }
  });

  it('keeps references inside the snapshot even when many members are away', async () => {
    const out = await generate(
      { mode: 'daily', daily: { disappear_share: 0.3, return_share: 0.2, transactions: 500 } },
      '2025-01-20',
    );
    assert.ok(out.metadata.daily!.customers.absent > 100, `${out.metadata.daily!.customers.absent} absent`);
    const customers = byId(out.customers, 'customer_id');
    const products = byId(out.products, 'product_id');
    for (const t of out.transactions) assert.ok(customers.has(t.customer_id!), t.customer_id);
    for (const item of out.items) assert.ok(products.has(item.product_id!), item.product_id);
  });

  it('is deterministic per (seed, run date) whatever ran before', async () => {
    const again = await generate({ mode: 'daily' }, '2025-01-02');
    assert.deepEqual(fileHashes(again.dir), fileHashes(day2.dir));
    const otherSeed = await generate({ mode: 'daily', seed: 7 }, '2025-01-02');
    assert.notEqual(
      otherSeed.metadata.files['transactions.csv']!.sha256,
      day2.metadata.files['transactions.csv']!.sha256,
    );
  });

  it('fails permanently, writing nothing, when the configured shares leave nobody to buy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'generation-spec-'));
    dirs.push(dir);
    const settings = dataGenerationConfigSchema.parse({
      ...SMALL,
      mode: 'daily',
      daily: { disappear_share: 1, return_share: 0 },
    });
    await assert.rejects(
      generateDataset({ settings, runDate: '2025-01-03', rawDir: dir, signal: new AbortController().signal }),
      (error: unknown) =>
        error instanceof PermanentError &&
        /no customer or product is left in the snapshot of 2025-01-03/.test(error.message),
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  it('refuses a run date inside the full range', async () => {
    await assert.rejects(generate({ mode: 'daily' }, '2024-12-31'), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.match(error.message, /must be after data_generation\.end_date \(2024-12-31\); got 2024-12-31/);
      return true;
    });
  });
});
