import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { warehouseConfigSchema } from './warehouse.config.js';

describe('warehouse config section', () => {
  it('defaults every key', () => {
    assert.deepEqual(warehouseConfigSchema.parse({}), {
      high_value_min_spend: 10_000,
      medium_value_min_spend: 2_500,
      large_load_threshold: 100_000,
      large_load_min_new_facts: 5_000,
      work_mem_mb: 128,
      random_page_cost: 1.1,
    });
  });

  it('rejects an unknown key', () => {
    assert.throws(() => warehouseConfigSchema.parse({ large_load_treshold: 5 }), /large_load_treshold/);
  });

  it('rejects a high value threshold below the medium one, naming the key', () => {
    const result = warehouseConfigSchema.safeParse({
      high_value_min_spend: 100,
      medium_value_min_spend: 200,
    });
    assert.equal(result.success, false);
    assert.deepEqual(
      result.error?.issues.map((i) => i.path.join('.')),
      ['high_value_min_spend'],
    );
  });
});
