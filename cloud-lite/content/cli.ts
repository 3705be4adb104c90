/**
 * `cloud-lite content import DIR --id ID --version V --title T [-c file]`: imports a
 * directory tree as a signed content package into `content.dir` and registers it in the
 * rental catalog (works with the hub running: SQLite allows a second writer briefly).
 * Prints `{ contentId, version, files, totalBytes, newBlobs, created }`. Returns the exit code.
 */
import { Command } from 'commander';
import { contentDir, loadConfig } from '../config.js';
import { HubError } from '../errors.js';
import { loadOrCreateSigningKey } from '../signing-key.js';
import { openStore } from '../store/open-store.js';
import { registerImportedContent } from './catalog-entry.js';
import { HubContentStore } from './content-store.js';
import { importContentTree } from './import-tree.js';

export async function runContentCommand(
  argv: string[],
  io: { env: NodeJS.ProcessEnv; out: (s: string) => void; err: (s: string) => void },
): Promise<number> {
  const program = new Command('cloud-lite content').exitOverride();
  let code = 0;
  program
    .command('import <dir>')
    .description('import a directory tree as a signed content package and list it in the catalog')
    .requiredOption('--id <contentId>', 'content id (letters, digits, ._:-)')
    .requiredOption('--version <version>', 'content version (immutable once imported)')
    .requiredOption('--title <title>', 'title shown to renters')
    .option('-c, --config <file>', 'hub configuration file')
    .action(
      async (dir: string, o: { id: string; version: string; title: string; config?: string }) => {
        const config = loadConfig({ file: o.config, env: io.env });
        const key = loadOrCreateSigningKey(config.signingKeyPath);
        const content = new HubContentStore({ dir: contentDir(config) });
        const store = await openStore(config);
        try {
          const r = await importContentTree(
            content,
            { source: dir, contentId: o.id, version: o.version, title: o.title },
            key.privateKey,
          );
          await registerImportedContent(
            store,
            r.signed.manifest,
            { actor: 'system:cli' },
            new Date(),
          );
          const m = r.signed.manifest;
          io.out(
            `${JSON.stringify({ contentId: m.contentId, version: m.version, files: m.files.length, totalBytes: m.totalBytes, newBlobs: r.newBlobs, created: r.created })}\n`,
          );
        } catch (err) {
          const e = err as Error;
          io.err(`cloud-lite content: ${e instanceof HubError ? `${e.code}: ` : ''}${e.message}\n`);
          code = 1;
        } finally {
          await store.close();
        }
      },
    );
  // commander's option named "version" must not become the program's --version flag.
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const e = err as { exitCode?: number; message: string; code?: string };
    if (e.code?.startsWith('commander.')) return e.exitCode ?? 1;
    io.err(`cloud-lite content: ${(err as Error).message}\n`);
    return 1;
  }
  return code;
}
