// Builds the browser bundles into web/static/dist/ (git-ignored): `npm run build`.
//
//   app.js / app.css        Bootstrap (CSS + JS bundle) and our small helpers and stylesheet (every page)
//   viewer.js / viewer.css  bpmn-js NavigatedViewer + Camunda moddle for [data-bpmn-viewer] elements
//   charts.js               ECharts (bar, line, pie) for [data-echarts] elements
//   fonts/                  font files referenced by the CSS
//   manifest.json           {"app.js": "<8 hex of sha256>", ...} for cache-busting query strings
//
// Minified IIFE bundles, no source maps, nothing inline: the pages run under a CSP without 'unsafe-inline'.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

import bpmnlintrc, { PLUGIN_DIR as BPMNLINT_PLUGIN_DIR } from './src/bpmnlintrc-plugin.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, '../static/dist');
// Build into a scratch folder and swap it in at the end, so a running server (or a second build started at the
// same time) never sees a half-written dist/.
// The scratch folders live in node_modules/ (git-ignored, same file system, so rename works).
const outdir = resolve(here, `node_modules/.dist-build-${process.pid}`);
const olddir = resolve(here, `node_modules/.dist-old-${process.pid}`);

const bundles = [
  { name: 'app', entry: 'src/app.js', globalName: 'JointMeeting' },
  { name: 'viewer', entry: 'src/viewer.js', globalName: 'JmViewer' },
  { name: 'charts', entry: 'src/charts.js', globalName: 'JmCharts' },
  // monitoring pages: print button, styles of the dashboard, ledger, instance pages and the 督办通报
  { name: 'monitor', entry: 'src/monitor.js', globalName: 'JmMonitor' },
  // designer: Modeler + Camunda 7 panel + behaviors + element templates + bpmnlint + token simulation
  { name: 'modeler', entry: 'src/modeler.js', globalName: 'JmModeler' },
  { name: 'diff', entry: 'src/diff.js', globalName: 'JmDiff' },
];

const common = {
  absWorkingDir: here,
  bundle: true,
  format: 'iife',
  minify: true,
  sourcemap: false,
  target: 'es2020',
  assetNames: 'fonts/[name]-[hash]',
  legalComments: 'linked',
  charset: 'utf8',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  // modeler.js: `import cfg from './bpmnlintrc.json?bpmnlint'` is packed at build time; local lint plugin
  plugins: [bpmnlintrc()],
  alias: { 'bpmnlint-plugin-jm': BPMNLINT_PLUGIN_DIR },
  loader: {
    '.eot': 'file',
    '.svg': 'file',
    '.ttf': 'file',
    '.woff': 'file',
    '.woff2': 'file',
  },
};

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const started = Date.now();
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

try {
  await Promise.all(
    bundles.map(({ name, entry, globalName }) =>
      esbuild.build({ ...common, outdir, entryPoints: { [name]: entry }, globalName }),
    ),
  );
} catch (err) {
  rmSync(outdir, { recursive: true, force: true });
  throw err;
}

const manifest = {};
for (const path of walk(outdir).sort()) {
  const rel = relative(outdir, path);
  manifest[rel] = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 8);
}
writeFileSync(join(outdir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

try {
  renameSync(dist, olddir);
} catch (err) {
  if (err.code !== 'ENOENT') throw err;
}
mkdirSync(dirname(dist), { recursive: true });
renameSync(outdir, dist);
rmSync(olddir, { recursive: true, force: true });

for (const rel of Object.keys(manifest)) {
  const kb = (statSync(join(dist, rel)).size / 1024).toFixed(1);
  console.log(`  web/static/dist/${rel.padEnd(32)} ${kb.padStart(8)} KB`);
}
console.log(`built in ${Date.now() - started} ms`);
