// Builds the browser bundles into web/static/dist/ (git-ignored): `npm run build`.
//
//   app.js / app.css        Bootstrap (CSS + JS bundle) and our small helpers and stylesheet (every page)
//   viewer.js / viewer.css  bpmn-js NavigatedViewer + Camunda moddle for [data-bpmn-viewer] elements
//   decisions.js/.css       dmn-js Modeler: the designer's decision-table editor
//   charts.js               ECharts (bar, line, pie) for [data-echarts] elements
//   fonts/                  font files referenced by the CSS (esbuild puts a hash in their names)
//   manifest.json           {"app.js": "app.1a2b3c4d.js", ...}: the content-hashed copy of each bundle, which the
//                           app links (web/assets.py) and serves with a year-long, immutable cache lifetime
//   *.gz, *.br              gzip and brotli copies of every text file, served when the browser accepts them
//
// Minified IIFE bundles, no source maps, nothing inline: the pages run under a CSP without 'unsafe-inline'.
import { createHash } from 'node:crypto';
import {
  copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

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
  // designer: dmn-js decision-table editor
  { name: 'decisions', entry: 'src/decisions.js', globalName: 'JmDecisions' },
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
  // The element-templates validator gives way to a stand-in that trusts our server-made templates (see
  // src/element-templates-trusted.js): the modeler is a quarter lighter.
  alias: {
    'bpmnlint-plugin-jm': BPMNLINT_PLUGIN_DIR,
    '@bpmn-io/element-templates-validator': resolve(here, 'src/element-templates-trusted.js'),
  },
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

// Compressed copies next to every text file (the app picks one by Accept-Encoding; see web/assets.py).
// Brotli's top quality takes seconds per megabyte: the modeler gets a quicker one.
const COMPRESSIBLE = new Set(['.js', '.css', '.svg', '.json', '.txt', '.eot', '.ttf']);

function compress(path) {
  const body = readFileSync(path);
  writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
  const quality = body.length > 1024 * 1024 ? 7 : 11;
  writeFileSync(`${path}.br`, brotliCompressSync(body, {
    params: { [zlib.BROTLI_PARAM_QUALITY]: quality, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length },
  }));
}

// Each bundle also under a name holding the hash of its content (app.js -> app.1a2b3c4d.js): pages link that
// name, so a browser may keep it for a year and a new build is fetched at once. Fonts already carry a hash.
const manifest = {};
for (const path of walk(outdir).sort()) {
  const rel = relative(outdir, path);
  const compressible = COMPRESSIBLE.has(extname(rel));
  if (compressible) compress(path);
  if (rel.endsWith('.LEGAL.txt') || rel.startsWith('fonts/')) {
    manifest[rel] = rel;
    continue;
  }
  const hash = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 8);
  const ext = extname(rel);
  const hashed = join(dirname(rel), `${basename(rel, ext)}.${hash}${ext}`);
  for (const suffix of compressible ? ['', '.gz', '.br'] : ['']) {
    copyFileSync(path + suffix, join(outdir, hashed + suffix));
  }
  manifest[rel] = hashed;
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
  if (rel.endsWith('.LEGAL.txt')) continue;
  const kb = (statSync(join(dist, rel)).size / 1024).toFixed(1);
  let br = '';
  try {
    br = `${(statSync(join(dist, `${rel}.br`)).size / 1024).toFixed(1).padStart(8)} KB br`;
  } catch {
    // not compressed (woff2 and the like are compressed already)
  }
  console.log(`  web/static/dist/${rel.padEnd(32)} ${kb.padStart(8)} KB ${br}`);
}
console.log(`built in ${Date.now() - started} ms`);
