// Shared launcher for the three programs. In a development checkout (TypeScript
// sources and tsx present) it runs the source, so a stale dist/ never surprises a
// developer; on the SD image only dist/ exists and that is what runs.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function load(entry) {
  const source = path.join(root, `${entry}.ts`);
  if (existsSync(source)) {
    try {
      const { register } = await import('tsx/esm/api');
      register();
      return await import(pathToFileURL(source).href);
    } catch (err) {
      if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    }
  }
  const built = path.join(root, 'dist', `${entry}.js`);
  if (!existsSync(built)) {
    process.stderr.write(`cannot find ${entry}: run \`npm run build\` first\n`);
    process.exit(1);
  }
  return import(pathToFileURL(built).href);
}

export async function runEntry(entry) {
  const mod = await load(entry);
  const code = await mod.main(process.argv.slice(2));
  if (typeof code === 'number') process.exitCode = code;
}
