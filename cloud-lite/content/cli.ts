/**
 * `cloud-lite content import DIR --id ID --version V --title T [-c file]`: imports a
 * directory tree as a signed content package into `content.dir` and registers it in the
 * rental catalog (works with the hub running: SQLite allows a second writer briefly).
 * Prints `{ contentId, version, files, totalBytes, newBlobs, created }`. Returns the exit code.
 */
import { type CliIo, runCli } from '../cli-run.js';
import { contentDir, loadConfig } from '../config.js';
import { loadOrCreateSigningKey } from '../signing-key.js';
import { openStore } from '../store/open-store.js';
import { registerImportedContent } from './catalog-entry.js';
import { HubContentStore } from './content-store.js';
import { importContentTree } from './import-tree.js';

export function runContentCommand(argv: string[], io: CliIo): Promise<number> {
  // commander's option named "version" must not become the program's --version flag.
  return runCli('cloud-lite content', argv, io, (program, run) =>
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
            run.fail(err);
          } finally {
            await store.close();
          }
        },
      ),
  );
}
