#!/usr/bin/env node
// `npm run build` (and npm's `prepare`, so `npm ci` runs it): compiles what the CLI and the worker
// load into dist/ (tsconfig.build.json) and prebuilds the worker's workflow bundle into
// dist/workflow-bundle.js, so neither compiles TypeScript at start-up. bin/ferry and
// worker/workflow-bundle.ts use dist/ only while it is newer than the sources.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const stamp = path.join(dist, 'build-stamp');

function resolveOrUndefined(id) {
  try {
    return require.resolve(id, { paths: [root] });
  } catch {
    return undefined;
  }
}

/**
 * TypeScript's emit for the files and options of tsconfig.build.json, one file at a time: the
 * tree compiles with isolatedModules, so this equals `tsc -p tsconfig.build.json` without its
 * type-check (seconds instead of half a minute; `npm run typecheck` and CI check the types).
 */
function emitJavaScript(ts) {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.build.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (config.errors.length > 0) {
    throw new Error(config.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
  }
  const { outDir, rootDir } = config.options;
  let count = 0;
  for (const file of config.fileNames) {
    if (file.endsWith('.d.ts')) continue;
    const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      compilerOptions: config.options,
      fileName: file,
      reportDiagnostics: true,
    });
    if (out.diagnostics && out.diagnostics.length > 0) {
      const why = out.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ');
      throw new Error(`${path.relative(root, file)}: ${why}`);
    }
    const target = path.join(outDir, path.relative(rootDir, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, out.outputText);
    count++;
  }
  return count;
}

async function main() {
  const typescript = resolveOrUndefined('typescript');
  const worker = resolveOrUndefined('@temporalio/worker');
  if (!typescript || !worker) {
    // An install without devDependencies: bin/ferry runs the sources through tsx instead.
    console.log('ferry build skipped: typescript or @temporalio/worker is not installed (bin/ferry will use tsx)');
    return;
  }
  // Stamped with the time the build started: a source saved while it runs makes the build stale.
  const startedAt = new Date();
  fs.rmSync(dist, { recursive: true, force: true });

  const emitted = emitJavaScript(require(typescript));

  const { bundleWorkflowCode } = require(worker);
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(root, 'workflows', 'index.ts'), logger: quiet });
  const bundle = path.join(dist, 'workflow-bundle.js');
  fs.writeFileSync(`${bundle}.tmp`, code);
  fs.renameSync(`${bundle}.tmp`, bundle);
  fs.utimesSync(bundle, startedAt, startedAt);

  fs.writeFileSync(stamp, `${startedAt.toISOString()}\n`);
  fs.utimesSync(stamp, startedAt, startedAt);
  console.log(`ferry built ${emitted} files and the workflow bundle into dist/ in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(`ferry build: ${err.message}`);
  process.exit(1);
});
