// Runs device-child.js in a child process and reports how it ended.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled child script next to this file. */
export const CHILD_SCRIPT = fileURLToPath(new URL('./device-child.js', import.meta.url));

/** How a child ended. */
export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running child with its output so far. */
export interface RunningChild {
  readonly pid: number;
  readonly done: Promise<ChildResult>;
  /** Resolves once stdout contains `text`. */
  waitFor(text: string): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `node device-child.js DIR VENDOR OP ARGS…` with extra environment; bounded by `timeoutMs`. */
export function startChild(
  dir: string,
  vendorDir: string,
  op: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): RunningChild {
  const child = spawn(process.execPath, [CHILD_SCRIPT, dir, vendorDir, op, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers: Array<{ text: string; resolve: () => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const watcher of watchers.splice(0)) {
      if (stdout.includes(watcher.text)) watcher.resolve();
      else watchers.push(watcher);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<ChildResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid!,
    done,
    waitFor: (text) =>
      stdout.includes(text)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            watchers.push({ text, resolve });
            void done.then(() =>
              reject(new Error(`child ended before printing "${text}": ${stdout} ${stderr}`)),
            );
          }),
    kill: (signal) => child.kill(signal),
  };
}

/** Runs a child to its end. */
export function runChild(
  dir: string,
  vendorDir: string,
  op: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<ChildResult> {
  return startChild(dir, vendorDir, op, args, env).done;
}
