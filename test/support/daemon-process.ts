/**
 * Runs the real daemon (`dist/apps/daemon/src/cli.js`) as a child process, for tests that send
 * signals, kill processes or race replicas.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../apps/daemon/src/cli.js', import.meta.url));

/**
 * The Node flags the daemon is started with, as package.json's `pipeline` script gives them
 * (`node <flags> dist/apps/daemon/src/cli.js`): the bench measures the process users run, and the
 * image's entry point is held to the same flags (test/deploy/container.spec.ts).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = (() => {
  const packageJson = fileURLToPath(new URL('../../../package.json', import.meta.url));
  const { scripts } = JSON.parse(readFileSync(packageJson, 'utf8')) as { scripts: Record<string, string> };
  const [node, ...rest] = scripts.pipeline!.split(' ');
  const script = rest.pop();
  if (node !== 'node' || script !== 'dist/apps/daemon/src/cli.js')
    throw new Error(
      `package.json's pipeline script is not "node [flags] dist/apps/daemon/src/cli.js": ${scripts.pipeline}`,
    );
  return rest;
})();

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly baseUrl: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startDaemon(
  env: Record<string, string>,
  args: string[] = ['serve'],
): Promise<DaemonProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`daemon exited during start-up:\n${text}`);
    try {
      const response = await fetch(`${baseUrl}/health/live`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`daemon did not answer /health/live within 30 s:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, port, baseUrl, output: () => text, exited };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
