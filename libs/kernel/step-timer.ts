import { performance } from 'node:perf_hooks';

/** Runs one named step of a stage and records its wall time. */
export type TimedStep = <T>(name: string, work: () => Promise<T>) => Promise<T>;

/**
 * Wall milliseconds per named step of a stage, for its details (`step_ms`): where a slow run
 * spends its time. A step that throws is timed too.
 */
export function stepTimer(): { readonly step: TimedStep; readonly ms: Readonly<Record<string, number>> } {
  const ms: Record<string, number> = {};
  const step: TimedStep = async (name, work) => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      ms[name] = Math.round(performance.now() - started);
    }
  };
  return { step, ms };
}
