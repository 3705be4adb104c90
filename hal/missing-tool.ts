/**
 * External programs the simulators, the demo, the tests and the benchmarks run, and what
 * to say when one is missing: ONE line naming it and the command that installs it. A
 * MissingToolError is an expected condition, not a bug, so its `stack` is that line only
 * (a test runner or a top-level handler prints no stack trace for it).
 */

import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { CodedError } from '../common/coded-error.js';

/** The Debian package that provides each tool (what scripts/setup-system.sh installs). */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  socat: 'socat',
  rsync: 'rsync',
  'mkfs.exfat': 'exfatprogs',
  'fsck.exfat': 'exfatprogs',
  'mount.exfat-fuse': 'exfat-fuse',
  bmaptool: 'bmap-tools',
  'tune.exfat': 'exfatprogs',
  losetup: 'util-linux',
  blockdev: 'util-linux',
  wipefs: 'util-linux',
  chromium: 'chromium',
  caddy: 'caddy',
  tmux: 'tmux',
  'systemd-analyze': 'systemd',
  'systemd-notify': 'systemd',
  groff: 'groff-base',
  rauc: 'rauc',
  mksquashfs: 'squashfs-tools',
  'dbus-daemon': 'dbus',
  sfdisk: 'fdisk',
  partx: 'util-linux',
  unshare: 'util-linux',
  'mkfs.ext4': 'e2fsprogs',
  debugfs: 'e2fsprogs',
  openssl: 'openssl',
  promtool: 'prometheus',
};

export class MissingToolError extends CodedError<'ENOTOOL'> {
  constructor(
    /** The missing programs. */
    readonly tools: string[],
    /** What needed them (`demo`, `the board simulator`, ...). */
    readonly neededBy: string,
  ) {
    super('ENOTOOL', missingToolsLine(tools, neededBy));
    this.stack = this.message;
  }
}

/** The absolute path of `tool` (a name looked up in `PATH`, or a path), or undefined. */
export function findTool(tool: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = tool.includes('/')
    ? [tool]
    : (env.PATH ?? '')
        .split(':')
        .filter(Boolean)
        .map((d) => path.join(d, tool));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {}
  }
  return undefined;
}

/** The tools of `tools` not found. */
export function missingTools(tools: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return tools.filter((t) => !findTool(t, env));
}

/** The command that installs `tools` on Debian. */
export function installCommand(tools: string[]): string {
  const pkgs = [...new Set(tools.map((t) => TOOL_PACKAGES[path.basename(t)] ?? t))];
  return `apt-get install -y ${pkgs.join(' ')}`;
}

/** `<neededBy>: socat is not installed; install it with `apt-get install -y socat` (as root; ...)` */
export function missingToolsLine(tools: string[], neededBy: string): string {
  const names = tools.map((t) => path.basename(t));
  const one = names.length === 1;
  const list = one ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `${neededBy}: ${list} ${one ? 'is' : 'are'} not installed; install ${one ? 'it' : 'them'} with \`${installCommand(tools)}\` (as root; scripts/setup-system.sh installs all the project uses)`;
}

/** Throws MissingToolError when one of `tools` is not found. */
export function requireTools(
  tools: string[],
  neededBy: string,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const missing = missingTools(tools, env);
  if (missing.length > 0) throw new MissingToolError(missing, neededBy);
}

/**
 * What real exFAT disks on loop devices need (the demo's loop disks, the storage tests):
 * util-linux, exfatprogs, and exfat-fuse when the kernel has no exFAT driver.
 */
export function exfatDiskTools(): string[] {
  let fs = '';
  try {
    fs = readFileSync('/proc/filesystems', 'utf8');
  } catch {}
  const kernel = /^(nodev)?\s+exfat$/m.test(fs);
  return [
    'losetup',
    'blockdev',
    'wipefs',
    'mkfs.exfat',
    'fsck.exfat',
    ...(kernel ? [] : ['mount.exfat-fuse']),
  ];
}
