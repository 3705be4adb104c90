/**
 * Runs a system tool through execa and turns failures into `StorageError`s:
 * `ETOOL` with `.tool`, `.exitCode` and `.stderr` (the message quotes stderr's last line).
 */
import { execa } from 'execa';
import { StorageError } from './types.js';

export interface ToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunToolOptions {
  timeoutMs?: number;
  /** Exit codes that are results, not failures (e.g. fsck's). */
  okExitCodes?: number[];
  /** What the caller was doing, for the message ("formatting /dev/sdb"). */
  doing?: string;
}

const lastLine = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .at(-1) ?? '';

export async function runTool(
  tool: string,
  args: string[],
  opts: RunToolOptions = {},
): Promise<ToolResult> {
  const res = await execa(tool, args, {
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    stdin: 'ignore',
    env: { LC_ALL: 'C' },
  });
  const stderr = String(res.stderr ?? '');
  const stdout = String(res.stdout ?? '');
  const doing = opts.doing ? ` while ${opts.doing}` : '';
  if (res.exitCode === undefined) {
    const why = res.timedOut ? `timed out after ${opts.timeoutMs ?? 60_000} ms` : res.shortMessage;
    const hint = /ENOENT/.test(res.shortMessage ?? '')
      ? `; install it (scripts/setup-system.sh installs exfatprogs, exfat-fuse, util-linux)`
      : '';
    throw new StorageError('ETOOL', `${tool} could not run${doing}: ${why}${hint}`, {
      tool,
      exitCode: -1,
      stderr,
      cause: res,
    });
  }
  if (res.exitCode !== 0 && !(opts.okExitCodes ?? []).includes(res.exitCode)) {
    throw new StorageError(
      'ETOOL',
      `${tool} ${args.join(' ')} failed${doing} (exit ${res.exitCode}): ${lastLine(stderr) || lastLine(stdout) || 'no output'}`,
      { tool, exitCode: res.exitCode, stderr: stderr || stdout },
    );
  }
  return { stdout, stderr, exitCode: res.exitCode };
}
