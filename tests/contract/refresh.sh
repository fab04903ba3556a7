#!/usr/bin/env bash
# Refresh GitHub's published descriptions in this folder from the pinned npm packages:
# github.graphql, openapi.json, webhooks.json and the packages' licence files.
# Needs node and npm (and the npm registry). Run from anywhere; with the same versions the
# output is byte-identical, so `git diff` after a run shows exactly what GitHub changed.
set -euo pipefail

GRAPHQL_SCHEMA_VERSION=15.26.1   # @octokit/graphql-schema: schema.json (introspection)
OPENAPI_VERSION=23.0.2           # @octokit/openapi: generated/api.github.com.deref.json
WEBHOOKS_SCHEMAS_VERSION=7.6.1   # @octokit/webhooks-schemas: schema.json
GRAPHQL_JS_VERSION=16.15.0       # graphql (graphql-js): prints the SDL

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tidemark-contract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
echo '{"name":"tidemark-contract-refresh","private":true}' >package.json
npm install --no-audit --no-fund --ignore-scripts --save-exact --loglevel=error \
  "@octokit/graphql-schema@$GRAPHQL_SCHEMA_VERSION" \
  "@octokit/openapi@$OPENAPI_VERSION" \
  "@octokit/webhooks-schemas@$WEBHOOKS_SCHEMAS_VERSION" \
  "graphql@$GRAPHQL_JS_VERSION"

node "$here/extract.js" "$tmp/node_modules" "$here"
cp "$tmp/node_modules/@octokit/graphql-schema/LICENSE.md" "$here/LICENSE.graphql-schema.md"
cp "$tmp/node_modules/@octokit/openapi/LICENSE" "$here/LICENSE.openapi"
# @octokit/webhooks-schemas ships no licence file: LICENSE.webhooks is written by hand.
if [ -e "$tmp/node_modules/@octokit/webhooks-schemas/LICENSE" ] ||
  [ -e "$tmp/node_modules/@octokit/webhooks-schemas/LICENSE.md" ]; then
  echo "note: @octokit/webhooks-schemas now ships a licence file; copy it over LICENSE.webhooks" >&2
fi
echo "refreshed $here"
