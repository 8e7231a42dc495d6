// `make ui`: bundle src/ (and uPlot) into ../service/watcher/ui/static with content-hashed names
// and a manifest the service reads. Deterministic: the same sources and the locked esbuild and
// uPlot give the same bytes (a test rebuilds and compares).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.env.UI_OUT || join(here, '..', 'service', 'watcher', 'ui', 'static'));

mkdirSync(out, { recursive: true });
for (const name of readdirSync(out)) rmSync(join(out, name), { recursive: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome109', 'firefox115', 'safari16'],
  entryNames: '[name]-[hash]',
  outdir: out,
  metafile: true,
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
});

const manifest = {};
for (const [path, output] of Object.entries(result.metafile.outputs)) {
  if (!output.entryPoint) continue;
  manifest['app.js'] = basename(path);
  if (output.cssBundle) manifest['app.css'] = basename(output.cssBundle);
}
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
copyFileSync(join(here, 'node_modules', 'uplot', 'LICENSE'), join(out, 'LICENSE-uPlot.txt'));
console.log(`ui: ${Object.values(manifest).join(', ')} -> ${out}`);
