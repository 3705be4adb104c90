/**
 * kioskctl's manual, generated from its own help texts: one model of the page (helpDoc),
 * rendered as Markdown (docs/kioskctl.1.md, for reading in the repository) and as a real man
 * page in roff (images/man/kioskctl.1, which the SD image installs for `man kioskctl`).
 */
import type { Command } from 'commander';

interface Opt {
  flags: string;
  description: string;
}

interface DocCommand {
  /** `slot eject` */
  name: string;
  /** `kioskctl slot eject [options] <N>` */
  usage: string;
  description: string;
  options: Opt[];
}

/** Prose sections; `code` spans are marked with backticks, as in Markdown. */
interface HelpDoc {
  version: string;
  summary: string;
  synopsis: string;
  globalOptions: Opt[];
  commands: DocCommand[];
  sections: Array<{ title: string; text: string[] }>;
}

function usage(cmd: Command, parents: string[]): string {
  return [...parents, cmd.name(), cmd.usage()].filter(Boolean).join(' ');
}

const opts = (cmd: Command): Opt[] =>
  cmd.options.map((o) => ({ flags: o.flags, description: o.description }));

export function helpDoc(program: Command, version: string): HelpDoc {
  const commands: DocCommand[] = [];
  const walk = (cmd: Command, parents: string[]) => {
    for (const c of cmd.commands) {
      if (c.commands.length === 0) {
        commands.push({
          name: [...parents, c.name()].join(' '),
          usage: usage(c, ['kioskctl', ...parents]),
          description: c.description(),
          options: opts(c),
        });
      }
      walk(c, [...parents, c.name()]);
    }
  };
  walk(program, []);
  return {
    version,
    summary: program.description(),
    synopsis: usage(program, []),
    globalOptions: opts(program),
    commands,
    sections: [
      {
        title: 'EXIT STATUS',
        text: [
          '0 success; 1 failure (the message says what failed and what to do); 3 `status` while kioskd is not running.',
        ],
      },
      {
        title: 'FILES',
        text: [
          '`/run/disk-kiosk/kioskd.sock` (maintenance socket, 0660, group kiosk-tech), `/etc/disk-kiosk/kioskd.json`,',
          '`/etc/disk-kiosk/image-version`, `/var/lib/disk-kiosk/kioskd.sqlite`.',
        ],
      },
      {
        title: 'ENVIRONMENT',
        text: [
          '`KIOSKCTL_CONFIG`, `KIOSKCTL_SOCKET`, `KIOSKCTL_USER` (name recorded in the audit trail; default the Unix user or `SUDO_USER`).',
        ],
      },
    ],
  };
}

/** The Markdown page (docs/kioskctl.1.md). */
export function manPage(program: Command, version: string): string {
  const d = helpDoc(program, version);
  const optLines = (o: Opt[]) => o.map((x) => `- \`${x.flags}\`: ${x.description}`);
  const out: string[] = [
    `% KIOSKCTL(1) disk-kiosk ${d.version}`,
    '',
    '# NAME',
    '',
    `kioskctl - ${d.summary}`,
    '',
    '# SYNOPSIS',
    '',
    `\`${d.synopsis}\``,
    '',
    '# GLOBAL OPTIONS',
    '',
    ...optLines(d.globalOptions),
    '',
    '# COMMANDS',
    '',
  ];
  for (const c of d.commands) {
    out.push(`## ${c.name}`, '', `\`${c.usage}\``, '', c.description, '');
    if (c.options.length) out.push(...optLines(c.options), '');
  }
  for (const s of d.sections) out.push(`# ${s.title}`, '', ...s.text, '');
  return out.join('\n');
}

/** Text for roff: backslashes escaped, dashes as minus signs, no line starting a request. */
function roffText(s: string): string {
  const t = s.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(t) ? `\\&${t}` : t;
}

/** Prose with `code` spans in bold. */
function roffProse(s: string): string {
  return s
    .split('`')
    .map((part, i) => (i % 2 ? `\\fB${roffText(part)}\\fR` : roffText(part)))
    .join('');
}

/** The man page in roff (man(7) macros): images/man/kioskctl.1. */
export function roffManPage(program: Command, version: string): string {
  const d = helpDoc(program, version);
  const optItems = (o: Opt[]) =>
    o.flatMap((x) => ['.TP', `.B ${roffText(x.flags)}`, roffProse(x.description)]);
  const out: string[] = [
    `.\\" Generated from kioskctl's help texts by npm run gen:docs; do not edit.`,
    `.TH KIOSKCTL 1 "" "disk-kiosk ${roffText(d.version)}" "disk-kiosk"`,
    '.SH NAME',
    `kioskctl \\- ${roffText(d.summary)}`,
    '.SH SYNOPSIS',
    `.B ${roffText(d.synopsis)}`,
    '.SH GLOBAL OPTIONS',
    ...optItems(d.globalOptions),
    '.SH COMMANDS',
  ];
  for (const c of d.commands) {
    out.push(
      `.SS "${roffText(c.name)}"`,
      `.B ${roffText(c.usage)}`,
      '.PP',
      roffProse(c.description),
    );
    out.push(...optItems(c.options));
  }
  for (const s of d.sections) out.push(`.SH ${s.title}`, ...s.text.map(roffProse));
  return `${out.join('\n')}\n`;
}
