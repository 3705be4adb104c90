import { Command } from 'commander';

/** kioskctl entry point. The commands land with the kioskctl issue. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('kioskctl')
    .description("disk-kiosk technicians' maintenance CLI (talks to kioskd over its Unix socket)")
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    return (err as { exitCode?: number }).exitCode ?? 1;
  }
  process.stderr.write('kioskctl: no commands are built yet (see the kioskctl issue)\n');
  return 1;
}
