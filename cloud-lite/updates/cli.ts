/**
 * `cloud-lite rollout ...`: software rollouts from the hub's machine (docs/updates.md). Works
 * on the database and the content store directly, with the hub running or not: the running
 * hub's next pass (`rolloutTickMs`) takes a new rollout, a halt or a resume up.
 *
 *   create --version V (--bundle FILE | --sha256 HASH) [--waves 1,10%,100%]
 *          [--max-failure-rate 0.2] [--install-window SECONDS] [--kiosks a,b,c]
 *   list | show ID | halt ID | resume ID | cancel ID
 *
 * Each prints JSON on stdout; a refusal prints `cloud-lite rollout: CODE: message` and exits 1.
 */
import { Command } from 'commander';
import { contentDir, loadConfig } from '../config.js';
import { HubContentStore } from '../content/content-store.js';
import { storeBlob } from '../content/import-tree.js';
import { HubError } from '../errors.js';
import { createLogger } from '../log.js';
import { openStore } from '../store/open-store.js';
import { RolloutService } from './rollouts.js';

type Io = { env: NodeJS.ProcessEnv; out: (s: string) => void; err: (s: string) => void };

const WHO = { actor: 'system:cli' };

export async function runRolloutCommand(argv: string[], io: Io): Promise<number> {
  const program = new Command('cloud-lite rollout')
    .description('staged software rollouts to the kiosks (RAUC bundles)')
    .exitOverride();
  let code = 0;
  const withService = async (
    configFile: string | undefined,
    fn: (svc: RolloutService, content: HubContentStore) => Promise<unknown>,
  ) => {
    const config = loadConfig({ file: configFile, env: io.env });
    const content = new HubContentStore({ dir: contentDir(config) });
    await content.start();
    const store = await openStore(config);
    const svc = new RolloutService({
      store,
      blobSize: (sha) => content.blobSize(sha),
      bundleUrl: (sha) => `/blobs/sha256/${sha}`,
      logger: createLogger('silent'),
      tickMs: config.rolloutTickMs,
    });
    try {
      io.out(`${JSON.stringify(await fn(svc, content), null, 2)}\n`);
    } catch (err) {
      const e = err as Error;
      io.err(`cloud-lite rollout: ${e instanceof HubError ? `${e.code}: ` : ''}${e.message}\n`);
      code = 1;
    } finally {
      await store.close();
    }
  };
  const cfg = ['-c, --config <file>', 'hub configuration file'] as const;
  program
    .command('create')
    .description('start a rollout of an image version to the kiosks, in waves')
    .requiredOption('--version <version>', 'the image version the bundle holds')
    .option('--bundle <file>', 'the RAUC bundle (images/bundle.sh); stored in the content store')
    .option('--sha256 <hash>', 'a bundle already in the content store')
    .option('--waves <list>', 'cumulative kiosk counts or shares', '1,10%,100%')
    .option('--max-failure-rate <share>', 'halt when a wave fails more than this (0..1)', '0.2')
    .option('--install-window <seconds>', 'how long a kiosk has to start installing', '21600')
    .option('--kiosks <ids>', 'these kiosks in this order (default: all, by id)')
    .option(...cfg)
    .action(
      async (o: {
        version: string;
        bundle?: string;
        sha256?: string;
        waves: string;
        maxFailureRate: string;
        installWindow: string;
        kiosks?: string;
        config?: string;
      }) =>
        withService(o.config, async (svc, content) => {
          if (!o.bundle === !o.sha256)
            throw new HubError('VALIDATION', 'give --bundle FILE or --sha256 HASH (one of them)');
          const sha256 = o.bundle
            ? (await storeBlob(content, o.bundle)).sha256
            : (o.sha256 as string);
          return svc.create(
            {
              version: o.version,
              bundleSha256: sha256,
              waves: o.waves.split(',').map((w) => w.trim()),
              maxFailureRate: Number(o.maxFailureRate),
              installWindowSeconds: Number(o.installWindow),
              ...(o.kiosks ? { kiosks: o.kiosks.split(',').map((k) => k.trim()) } : {}),
            },
            WHO,
          );
        }),
    );
  program
    .command('list')
    .description('rollouts, newest first')
    .option(...cfg)
    .action((o: { config?: string }) =>
      withService(o.config, async (svc) => ({ rollouts: await svc.list() })),
    );
  program
    .command('show <id>')
    .description("a rollout with each kiosk's state")
    .option(...cfg)
    .action((id: string, o: { config?: string }) => withService(o.config, (svc) => svc.view(id)));
  for (const verb of ['halt', 'resume', 'cancel'] as const) {
    program
      .command(`${verb} <id>`)
      .description(
        {
          halt: 'stop sending the update (kiosks already installing carry on)',
          resume: 'go on with a halted rollout',
          cancel: 'end a rollout for good',
        }[verb],
      )
      .option(...cfg)
      .action((id: string, o: { config?: string }) =>
        withService(o.config, (svc) => svc[verb](id, WHO)),
      );
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const e = err as { exitCode?: number; code?: string; message: string };
    if (e.code?.startsWith('commander.')) return e.exitCode ?? 1;
    io.err(`cloud-lite rollout: ${e.message}\n`);
    return 1;
  }
  return code;
}
