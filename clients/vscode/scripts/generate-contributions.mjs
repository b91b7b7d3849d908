#!/usr/bin/env node
// Generates contributes.debuggers[ember].configurationAttributes in package.json from the
// repository's JSON Schemas (schemas/launch.schema.json, schemas/attach.schema.json), so the
// launch.json completions VS Code offers are exactly the fields `ember dap` accepts.
//   node scripts/generate-contributions.mjs          rewrite package.json
//   node scripts/generate-contributions.mjs --check  exit 1 when package.json is stale
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const extensionDir = join(here, "..");
export const schemasDir = process.env.EMBER_SCHEMAS_DIR || join(extensionDir, "..", "..", "schemas");

// Keys about the schema document itself, meaningless inside package.json.
const META = ["$schema", "$id", "$defs", "definitions", "title", "$comment", "examples"];
// VS Code supplies these three itself for every debug configuration.
const SUPPLIED = ["type", "request", "name"];

/** Replaces local `$ref`s ("#/$defs/x", "#/definitions/x") by copies of their targets. */
export function inlineRefs(node, root, seen = []) {
  if (Array.isArray(node)) return node.map((n) => inlineRefs(n, root, seen));
  if (node === null || typeof node !== "object") return node;
  if (typeof node.$ref === "string") {
    const ref = node.$ref;
    if (!ref.startsWith("#/")) throw new Error(`only local $refs are supported, found ${ref}`);
    if (seen.includes(ref)) throw new Error(`recursive $ref ${ref}`);
    let target = root;
    for (const part of ref.slice(2).split("/")) {
      target = target?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    if (target === undefined) throw new Error(`unresolved $ref ${ref}`);
    const { $ref, ...siblings } = node;
    return { ...inlineRefs(target, root, [...seen, ref]), ...inlineRefs(siblings, root, seen) };
  }
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = inlineRefs(v, root, seen);
  return out;
}

/** One request's configurationAttributes from its JSON Schema. */
export function attributesFromSchema(schema) {
  const inlined = inlineRefs(schema, schema);
  for (const key of META) delete inlined[key];
  if (inlined.properties) {
    for (const key of SUPPLIED) delete inlined.properties[key];
  }
  if (Array.isArray(inlined.required)) {
    inlined.required = inlined.required.filter((k) => !SUPPLIED.includes(k));
    if (inlined.required.length === 0) delete inlined.required;
  }
  return inlined;
}

export function readSchemas(dir = schemasDir) {
  const read = (name) => JSON.parse(readFileSync(join(dir, name), "utf8"));
  return { launch: read("launch.schema.json"), attach: read("attach.schema.json") };
}

export function configurationAttributes(schemas = readSchemas()) {
  return { launch: attributesFromSchema(schemas.launch), attach: attributesFromSchema(schemas.attach) };
}

/** package.json text with fresh configurationAttributes (2-space JSON, trailing newline). */
export function regeneratedPackageJson(pkgText, attrs = configurationAttributes()) {
  const pkg = JSON.parse(pkgText);
  const dbg = pkg.contributes?.debuggers?.find((d) => d.type === "ember");
  if (!dbg) throw new Error("package.json has no contributes.debuggers entry of type ember");
  dbg.configurationAttributes = attrs;
  return JSON.stringify(pkg, null, 2) + "\n";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = join(extensionDir, "package.json");
  const current = readFileSync(file, "utf8");
  const fresh = regeneratedPackageJson(current);
  if (process.argv.includes("--check")) {
    if (fresh !== current) {
      console.error("package.json configurationAttributes are stale: run `npm run generate` in clients/vscode");
      process.exit(1);
    }
    console.log("package.json configurationAttributes match schemas/");
  } else {
    writeFileSync(file, fresh);
    console.log(`wrote configurationAttributes from ${schemasDir}`);
  }
}
