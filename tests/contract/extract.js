// Produces github.graphql, openapi.json and webhooks.json in OUT_DIR from the npm packages
// installed in NODE_MODULES (see refresh.sh, which pins their versions).
//
//   node extract.js NODE_MODULES OUT_DIR
//
// Deterministic: the same package versions give byte-identical files (object keys sorted,
// arrays kept in the packages' order).
'use strict';

const fs = require('fs');
const path = require('path');

const [nodeModules, outDir] = process.argv.slice(2).map((p) => p && path.resolve(p));
if (!nodeModules || !outDir) {
  console.error('usage: node extract.js NODE_MODULES OUT_DIR');
  process.exit(2);
}
const readJson = (rel) => JSON.parse(fs.readFileSync(path.join(nodeModules, rel), 'utf8'));

// REST operations kept: every one tidemarkd calls and the ones its simulator serves. (Not
// GET /repositories/{id}: it is not in GitHub's description, so tidemarkd finds a renamed
// repository by its GraphQL node id instead.)
const OPERATIONS = [
  ['get', '/'], // tidemarkd doctor: is GitHub there, and its Date
  ['get', '/rate_limit'],
  ['get', '/user'],
  ['get', '/user/orgs'],
  ['get', '/user/memberships/orgs/{org}'],
  ['get', '/users/{username}'],
  ['get', '/orgs/{org}'],
  ['get', '/orgs/{org}/members'],
  ['get', '/orgs/{org}/repos'],
  ['get', '/orgs/{org}/hooks'],
  ['post', '/orgs/{org}/hooks'],
  ['get', '/orgs/{org}/hooks/{hook_id}'],
  ['patch', '/orgs/{org}/hooks/{hook_id}'],
  ['delete', '/orgs/{org}/hooks/{hook_id}'],
  ['patch', '/orgs/{org}/hooks/{hook_id}/config'],
  ['get', '/repos/{owner}/{repo}'],
  ['get', '/repos/{owner}/{repo}/pulls'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}/commits'],
  ['get', '/repos/{owner}/{repo}/hooks'],
  ['post', '/repos/{owner}/{repo}/hooks'],
  ['get', '/repos/{owner}/{repo}/hooks/{hook_id}'],
  ['patch', '/repos/{owner}/{repo}/hooks/{hook_id}'],
  ['delete', '/repos/{owner}/{repo}/hooks/{hook_id}'],
  ['get', '/repos/{owner}/{repo}/hooks/{hook_id}/config'],
  ['patch', '/repos/{owner}/{repo}/hooks/{hook_id}/config'],
  ['post', '/repos/{owner}/{repo}/hooks/{hook_id}/pings'],
  ['get', '/repos/{owner}/{repo}/hooks/{hook_id}/deliveries'],
  ['get', '/repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}'],
  ['post', '/repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts'],
  ['get', '/repos/{owner}/{repo}/deployments'], // delivery metrics (issue 17) from here on
  ['post', '/repos/{owner}/{repo}/deployments'],
  ['get', '/repos/{owner}/{repo}/deployments/{deployment_id}'],
  ['get', '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses'],
  ['post', '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses'],
  ['get', '/repos/{owner}/{repo}/actions/runs'],
  ['get', '/repos/{owner}/{repo}/actions/runs/{run_id}'],
  ['get', '/repos/{owner}/{repo}/releases'],
  ['get', '/repos/{owner}/{repo}/tags'],
  ['get', '/repos/{owner}/{repo}/compare/{basehead}'],
  ['get', '/repos/{owner}/{repo}/issues'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}'],
  ['post', '/applications/{client_id}/token'],
  ['delete', '/applications/{client_id}/token'],
  ['delete', '/applications/{client_id}/grant'],
];

// Webhook events kept, each with all of its actions.
const EVENTS = [
  'deployment',
  'deployment_status',
  'issues',
  'member',
  'membership',
  'organization',
  'ping',
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
  'push',
  'release',
  'repository',
  'workflow_run',
];

// Documentation-only keywords dropped from the REST schemas (they are most of the bytes).
const DOC_KEYS = new Set(['description', 'example', 'examples', 'externalDocs', 'summary']);

/** A copy with object keys sorted (recursively) and `drop`ped keys removed from objects. */
function canonical(value, drop) {
  if (Array.isArray(value)) return value.map((v) => canonical(v, drop));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const key of Object.keys(value).sort()) {
    if (drop && drop.has(key)) continue;
    out[key] = canonical(value[key], drop);
  }
  return out;
}

/**
 * Drop documentation keywords from a schema, but never a property *named* like one
 * (`properties.description` of a repository is data, not documentation).
 */
function stripSchema(schema) {
  if (Array.isArray(schema)) return schema.map(stripSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DOC_KEYS.has(key) || key.startsWith('x-')) continue;
    if (key === 'properties' || key === 'patternProperties' || key === 'definitions') {
      out[key] = {};
      for (const [name, sub] of Object.entries(value)) out[key][name] = stripSchema(sub);
    } else if (key === 'enum' || key === 'default' || key === 'required') {
      out[key] = value;
    } else {
      out[key] = stripSchema(value);
    }
  }
  return out;
}

function writeJson(name, value) {
  fs.writeFileSync(path.join(outDir, name), JSON.stringify(canonical(value), null, 1) + '\n');
}

// ---- GraphQL: the SDL printed from the introspection (its schema.graphql repeats a field).
{
  const { buildClientSchema, printSchema } = require(path.join(nodeModules, 'graphql'));
  const intro = readJson('@octokit/graphql-schema/schema.json');
  const schema = buildClientSchema(intro.data ? intro.data : intro);
  fs.writeFileSync(path.join(outDir, 'github.graphql'), printSchema(schema) + '\n');
}

// ---- REST: the operations above, dereferenced, documentation stripped.
{
  const api = readJson('@octokit/openapi/generated/api.github.com.deref.json');
  const paths = {};
  for (const [method, template] of OPERATIONS) {
    const op = api.paths[template] && api.paths[template][method];
    if (!op) throw new Error(`${method.toUpperCase()} ${template} is not in the description`);
    const kept = { operationId: op.operationId };
    if (op.parameters) {
      kept.parameters = op.parameters.map((p) => {
        const q = { in: p.in, name: p.name, required: !!p.required };
        if (p.schema) q.schema = stripSchema(p.schema);
        return q;
      });
    }
    if (op.requestBody) {
      kept.requestBody = { required: !!op.requestBody.required, content: {} };
      for (const [type, media] of Object.entries(op.requestBody.content || {})) {
        kept.requestBody.content[type] = { schema: stripSchema(media.schema || {}) };
      }
    }
    kept.responses = {};
    for (const [status, resp] of Object.entries(op.responses)) {
      const r = {};
      for (const [type, media] of Object.entries(resp.content || {})) {
        r.content = r.content || {};
        r.content[type] = { schema: stripSchema(media.schema || {}) };
      }
      kept.responses[status] = r;
    }
    paths[template] = paths[template] || {};
    paths[template][method] = kept;
  }
  writeJson('openapi.json', {
    openapi: api.openapi,
    info: { title: api.info.title, version: api.info.version },
    paths,
  });
}

// ---- Webhooks: the events above and every definition they reach.
{
  const all = readJson('@octokit/webhooks-schemas/schema.json');
  const defs = all.definitions;
  const eventDef = (event) => {
    for (const name of [`${event}_event`, `${event}$event`]) if (defs[name]) return name;
    throw new Error(`no schema for the ${event} event`);
  };
  const roots = EVENTS.map(eventDef);
  const keep = new Set();
  const visit = (value) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== 'object') return;
    for (const [key, sub] of Object.entries(value)) {
      if (key === '$ref' && typeof sub === 'string') {
        const m = /^#\/definitions\/(.+)$/.exec(sub);
        if (!m) throw new Error(`unexpected $ref ${sub}`);
        const name = m[1];
        if (!defs[name]) throw new Error(`dangling $ref ${sub}`);
        if (!keep.has(name)) {
          keep.add(name);
          visit(defs[name]);
        }
      } else {
        visit(sub);
      }
    }
  };
  visit(roots.map((name) => ({ $ref: `#/definitions/${name}` })));
  const definitions = {};
  for (const name of [...keep].sort()) definitions[name] = defs[name];
  writeJson('webhooks.json', {
    $schema: all.$schema,
    definitions,
    oneOf: roots.map((name) => ({ $ref: `#/definitions/${name}` })),
  });
}
