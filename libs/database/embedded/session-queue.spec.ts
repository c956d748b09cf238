import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshEmbedded, type TestDatabase } from '../../../test/support/databases.js';

describe("the embedded database's one session, shared by many connections", () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshEmbedded({ migrate: false });
  });
  after(async () => t?.dispose());

  it('answers each parameterised query with its own statement and parameters, however many run at once', async () => {
    // Two shapes of statement, each sent as Parse/Bind/Execute/Sync: if one connection's Parse
    // came between another's Parse and Bind, a query would run the other's statement (an error,
    // or a row of the wrong shape) - pglite#1046, which made heartbeats miss their run.
    const asked = Array.from({ length: 400 }, (_, i) => i);
    const answers = await Promise.all(
      asked.map(async (i) => {
        if (i % 2 === 0) {
          const { rows } = await t.db.pool.query<{ n: number }>('SELECT $1::int * 2 AS n', [i]);
          return rows[0]!.n;
        }
        const { rows } = await t.db.pool.query<{ label: string }>("SELECT 'item ' || $1::text AS label", [i]);
        return rows[0]!.label;
      }),
    );
    assert.deepEqual(
      answers,
      asked.map((i) => (i % 2 === 0 ? i * 2 : `item ${i}`)),
    );
  });

  it("keeps a transaction's statements to its connection while others query beside it", async () => {
    const client = await t.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE seen (n int) ON COMMIT DROP');
      const others = Promise.all(
        Array.from({ length: 50 }, (_, i) => t.db.pool.query<{ n: number }>('SELECT $1::int AS n', [i])),
      );
      for (let i = 0; i < 50; i++) await client.query('INSERT INTO seen VALUES ($1)', [i]);
      const { rows } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM seen');
      await client.query('COMMIT');
      assert.equal(rows[0]!.count, 50);
      assert.deepEqual(
        (await others).map((r) => r.rows[0]!.n),
        Array.from({ length: 50 }, (_, i) => i),
      );
    } finally {
      client.release();
    }
  });
});
