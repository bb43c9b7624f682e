// esbuild plugin (build time only): `import lintConfig from './bpmnlintrc.json?bpmnlint'` becomes the packed
// bpmnlint configuration that bpmn-js-bpmnlint needs in the browser, made by bpmnlint's own compile-config.
// The local plugin in ./bpmnlint-plugin-jm/ is resolved as the package "bpmnlint-plugin-jm" both here (Node,
// to check the rules load) and in the bundle (esbuild alias).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PLUGIN_NAME = 'bpmnlint-plugin-jm';
export const PLUGIN_DIR = resolve(here, 'bpmnlint-plugin-jm');

const baseRequire = createRequire(resolve(here, '../package.json'));
const compileConfig = baseRequire('bpmnlint/lib/support/compile-config');
const NodeResolver = baseRequire('bpmnlint/lib/resolver/node-resolver');

function mapped(id) {
  return id === PLUGIN_NAME || id.startsWith(`${PLUGIN_NAME}/`) ? PLUGIN_DIR + id.slice(PLUGIN_NAME.length) : id;
}

function localRequire(id) {
  return baseRequire(mapped(id));
}
localRequire.resolve = (id) => baseRequire.resolve(mapped(id));

export default function bpmnlintrc() {
  return {
    name: 'bpmnlintrc',
    setup(build) {
      build.onResolve({ filter: /\?bpmnlint$/ }, (args) => ({
        path: resolve(args.resolveDir, args.path.replace(/\?bpmnlint$/, '')),
        namespace: 'bpmnlintrc',
      }));
      build.onLoad({ filter: /.*/, namespace: 'bpmnlintrc' }, async (args) => {
        const config = JSON.parse(readFileSync(args.path, 'utf8'));
        const contents = await compileConfig(config, new NodeResolver({ require: localRequire }));
        return { contents, loader: 'js', resolveDir: dirname(args.path), watchFiles: [args.path] };
      });
    },
  };
}
