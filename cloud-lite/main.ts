import { Command } from 'commander';

/** cloud-lite entry point. The server lands with the hub issue. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('cloud-lite')
    .description('disk-kiosk hub: kiosk WebSocket hub, rental API and web pages')
    .option('-c, --config <file>', 'configuration file')
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    return (err as { exitCode?: number }).exitCode ?? 1;
  }
  process.stderr.write('cloud-lite: the hub is not built yet (see the hub issue)\n');
  return 1;
}
