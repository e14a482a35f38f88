// validate.mjs: strict schema validation of Kubernetes manifests.
//   node validate.mjs DOCS.json WORKDIR
// DOCS.json is [{"label": "...", "doc": {...}}, ...] (the test converts the
// `kubectl kustomize` output). Each document is checked twice:
//   1. the JSON-schema validator kubernetes-models generated from the
//      Kubernetes OpenAPI spec / the prometheus-operator CRDs (types,
//      required fields, enums, patterns such as durations);
//   2. the TypeScript compiler against the same packages' type declarations:
//      every document becomes a typed object literal, and TypeScript rejects
//      any property the type does not declare, at any depth. The OpenAPI
//      schemas allow unknown fields (the API server prunes or rejects them
//      server-side); this step is what makes a typo such as "readinesProbe"
//      fail here.
// Prints "ok: LABEL" or "FAIL: LABEL: reason" per document; exits 1 on any
// failure. Versions and sources: README.md beside this file.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [docsFile, workdir] = process.argv.slice(2);
if (!docsFile || !workdir) {
  console.error("usage: node validate.mjs DOCS.json WORKDIR");
  process.exit(2);
}
const docs = JSON.parse(readFileSync(docsFile, "utf8"));

// apiVersion + kind -> module path of the model (and its I<Kind> type).
function modelPath(apiVersion, kind) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

const failures = new Map();  // index -> [reasons]
const fail = (i, why) => {
  if (!failures.has(i)) failures.set(i, []);
  failures.get(i).push(why);
};

// 1. Runtime JSON-schema validation.
for (const [i, { doc }] of docs.entries()) {
  if (!doc || typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") {
    fail(i, "no apiVersion/kind");
    continue;
  }
  let mod;
  try {
    mod = await import(modelPath(doc.apiVersion, doc.kind));
  } catch (e) {
    fail(i, `no schema for ${doc.apiVersion} ${doc.kind} in the pinned packages`);
    continue;
  }
  const Model = mod[doc.kind];
  try {
    new Model(doc).validate();
  } catch (e) {
    fail(i, `schema: ${e.message}`);
  }
}

// 2. Strict property check with the TypeScript compiler: one document per
// line, so an error's line number names the document.
mkdirSync(workdir, { recursive: true });
if (!existsSync(join(workdir, "node_modules"))) {
  symlinkSync(join(here, "node_modules"), join(workdir, "node_modules"));
}
const imports = new Map();
const lines = [];
const header = [];
for (const [i, { doc }] of docs.entries()) {
  if (failures.has(i) && !doc?.kind) continue;
  const path = modelPath(doc.apiVersion, doc.kind);
  if (!imports.has(path)) {
    const alias = `T${imports.size}`;
    imports.set(path, alias);
    header.push(`import type { I${doc.kind} as ${alias} } from "${path}";`);
  }
  lines[i] = `export const d${i}: ${imports.get(path)} = ${JSON.stringify(doc)};`;
}
const first = header.length + 1;  // 1-based line of document 0
const body = docs.map((_, i) => lines[i] ?? "// skipped");
writeFileSync(join(workdir, "check.mts"), [...header, ...body, ""].join("\n"));
const tsc = spawnSync(
  process.execPath,
  [join(here, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict", "--skipLibCheck",
   "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext",
   "--pretty", "false", join(workdir, "check.mts")],
  { encoding: "utf8" });
const out = (tsc.stdout || "") + (tsc.stderr || "");
for (const line of out.split("\n")) {
  const m = line.match(/check\.mts\((\d+),(\d+)\): error (TS\d+: .*)$/);
  if (m) {
    const i = Number(m[1]) - first;
    if (i >= 0 && i < docs.length) fail(i, `strict: ${m[3]}`);
    else fail(0, `tsc: ${m[3]}`);
  }
}
if (tsc.status !== 0 && failures.size === 0) {
  console.error(`FAIL: TypeScript failed without a located error:\n${out}`);
  process.exit(1);
}

for (const [i, { label }] of docs.entries()) {
  if (failures.has(i)) console.log(`FAIL: ${label}: ${failures.get(i).join("; ")}`);
  else console.log(`ok: ${label} validates strictly`);
}
process.exit(failures.size ? 1 : 0);
