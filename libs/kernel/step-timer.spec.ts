import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { stepTimer } from './step-timer.js';

describe('stepTimer', () => {
  it("returns each step's result and records its wall milliseconds under its name, in order", async () => {
    const { step, ms } = stepTimer();
    assert.equal(await step('first', () => sleep(20, 'a')), 'a');
    assert.equal(await step('second', async () => 2), 2);
    assert.deepEqual(Object.keys(ms), ['first', 'second']);
    assert.ok(ms.first! >= 15, `first took ${ms.first} ms`);
    assert.ok(Number.isInteger(ms.second) && ms.second! < ms.first!);
  });

  it('times a step that throws, and lets the error through', async () => {
    const { step, ms } = stepTimer();
    await assert.rejects(
      step('failing', () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.ok(Number.isInteger(ms.failing));
  });
});
