import { Command } from 'commander';

/** kioskd entry point. The daemon itself lands with the kioskd issue. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('kioskd')
    .description('disk-kiosk runtime: drives the slot board, disks and hub link of one kiosk')
    .option('-c, --config <file>', 'configuration file', '/etc/disk-kiosk/kioskd.json')
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    return (err as { exitCode?: number }).exitCode ?? 1;
  }
  process.stderr.write('kioskd: the runtime is not built yet (see the kioskd issue)\n');
  return 1;
}
