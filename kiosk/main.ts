import path from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { Daemon } from './daemon.js';

/**
 * kioskd entry point (bin/kioskd.js). Loads and validates the configuration (file, then
 * KIOSKD_* environment overrides), starts the daemon and runs until SIGTERM/SIGINT
 * (clean stop, exit 0) or a hub `Reset Hard` (exit 75, systemd restarts it). A bad
 * configuration exits 78 (EX_CONFIG) with a message naming the file and key; any other
 * start-up failure exits 1.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('kioskd')
    .description('disk-kiosk runtime: drives the slot board, disks and hub link of one kiosk')
    .option('-c, --config <file>', 'configuration file', '/etc/disk-kiosk/kioskd.json')
    .option('--check-config', 'validate the configuration and exit')
    .addHelpText(
      'after',
      '\nEnvironment overrides: KIOSKD_KIOSK_ID, KIOSKD_DATA_DIR, KIOSKD_HUB_URL, KIOSKD_HUB_SECRET(_FILE),\n' +
        'KIOSKD_HUB_PUBLIC_KEY_FILE, KIOSKD_HUB_CA_FILE, KIOSKD_SLOTS, KIOSKD_LOG_LEVEL, KIOSKD_MAINTENANCE_SOCKET.\n' +
        'Simulated hardware: see kiosk/examples/sim.json.',
    )
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    return (err as { exitCode?: number }).exitCode ?? 1;
  }
  const opts = program.opts<{ config: string; checkConfig?: boolean }>();
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(opts.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kioskd: ${err.message}\n`);
      return 78;
    }
    throw err;
  }
  if (opts.checkConfig) {
    process.stdout.write(`kioskd: configuration ${opts.config} is valid\n`);
    return 0;
  }
  const daemon = new Daemon({ config, configDir: path.dirname(path.resolve(opts.config)) });
  let signalled: (sig: string) => void = () => {};
  const gotSignal = new Promise<string>((resolve) => {
    signalled = resolve;
  });
  const onSignal = (sig: NodeJS.Signals) => signalled(sig);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    try {
      await daemon.start();
    } catch (err) {
      const e = err as Error & { code?: string };
      daemon.log.fatal({ err: e, code: e.code }, 'kioskd could not start');
      process.stderr.write(`kioskd: cannot start: ${e.message}\n`);
      return err instanceof ConfigError ? 78 : 1;
    }
    const reason = await Promise.race([
      gotSignal.then((sig) => ({ code: 0, why: sig })),
      daemon.exitRequested.then((code) => ({ code, why: 'hard reset requested by the hub' })),
    ]);
    daemon.log.info({ why: reason.why }, 'kioskd stopping');
    await daemon.stop();
    return reason.code;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
