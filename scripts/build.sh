#!/usr/bin/env bash
# `npm run build [-- OUT_DIR]`: compiles the server, workers and migrations to JavaScript
# (default dist/), with the files they read at run time: the memory managers' prompts, and
# package.json (ESM "type" and the version the API reports); and the web app, built.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist}"
rm -rf "$out"
node_modules/.bin/tsc -p tsconfig.build.json --outDir "$out"
mkdir -p "$out/server/modules/consolidation" && cp -r server/modules/consolidation/prompts "$out/server/modules/consolidation/"
cp package.json "$out/"
# The web app, beside the compiled server (server/web-app.ts serves it from there).
node_modules/.bin/vite build --config web/vite.config.ts --outDir "$(realpath -m "$out")/web/dist" --logLevel warn
echo "built $out"
