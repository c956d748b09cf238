import type { RetryPolicy } from './stage.js';

/**
 * Delay before retry number `retry` (1 = the first retry): exponential from the base delay,
 * capped, then spread by ±jitter so that replicas failing together do not retry in step.
 * `random` returns a number in [0, 1).
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, retry - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  const spread = capped * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(capped + spread));
}
