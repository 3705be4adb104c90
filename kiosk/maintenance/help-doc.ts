/** A man-style page (Markdown) generated from kioskctl's own help texts. */
import type { Command } from 'commander';

function usage(cmd: Command, parents: string[]): string {
  return [...parents, cmd.name(), cmd.usage()].filter(Boolean).join(' ');
}

export function manPage(program: Command, version: string): string {
  const out: string[] = [
    '% KIOSKCTL(1) disk-kiosk ' + version,
    '',
    '# NAME',
    '',
    `kioskctl - ${program.description()}`,
    '',
    '# SYNOPSIS',
    '',
    `\`${usage(program, [])}\``,
    '',
    '# GLOBAL OPTIONS',
    '',
    ...program.options.map((o) => `- \`${o.flags}\`: ${o.description}`),
    '',
    '# COMMANDS',
    '',
  ];
  const walk = (cmd: Command, parents: string[]) => {
    for (const c of cmd.commands) {
      if (c.commands.length === 0) {
        out.push(
          `## ${[...parents, c.name()].join(' ')}`,
          '',
          `\`${usage(c, ['kioskctl', ...parents])}\``,
          '',
          c.description(),
          '',
        );
        for (const o of c.options) out.push(`- \`${o.flags}\`: ${o.description}`);
        if (c.options.length) out.push('');
      }
      walk(c, [...parents, c.name()]);
    }
  };
  walk(program, []);
  out.push(
    '# EXIT STATUS',
    '',
    '0 success; 1 failure (the message says what failed and what to do); 3 `status` while kioskd is not running.',
    '',
    '# FILES',
    '',
    '`/run/disk-kiosk/kioskd.sock` (maintenance socket, 0660, group kiosk-tech), `/etc/disk-kiosk/kioskd.json`,',
    '`/etc/disk-kiosk/image-version`, `/var/lib/disk-kiosk/kioskd.sqlite`.',
    '',
    '# ENVIRONMENT',
    '',
    '`KIOSKCTL_CONFIG`, `KIOSKCTL_SOCKET`, `KIOSKCTL_USER` (name recorded in the audit trail; default the Unix user or `SUDO_USER`).',
    '',
  );
  return out.join('\n');
}
