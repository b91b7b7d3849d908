#!/usr/bin/env node
// Generates debug_adapter_schemas/ember.json (the schema Zed uses for `.zed/debug.json`
// entries whose adapter is "ember") from schemas/launch.schema.json and attach.schema.json.
//   node scripts/generate-schema.mjs          rewrite the file
//   node scripts/generate-schema.mjs --check  exit 1 when it is stale
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { attributesFromSchema, readSchemas } from "../../vscode/scripts/generate-contributions.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "debug_adapter_schemas", "ember.json");

function branch(request, schema) {
  const attrs = attributesFromSchema(schema);
  // Zed puts its own keys (label, adapter, build...) in the same object.
  delete attrs.additionalProperties;
  return {
    if: { properties: { request: { const: request } }, required: ["request"] },
    then: attrs,
  };
}

export function zedSchema(schemas = readSchemas()) {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "Ember debug configuration",
    description: "Launch a Python program under Ember's sampling profiler, or attach it to a running process.",
    type: "object",
    required: ["request"],
    properties: {
      request: {
        type: "string",
        enum: ["launch", "attach"],
        description: "launch: run `program` or `module` under the profiler; attach: profile the running process `processId`.",
      },
    },
    allOf: [branch("launch", schemas.launch), branch("attach", schemas.attach)],
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = JSON.stringify(zedSchema(), null, 2) + "\n";
  if (process.argv.includes("--check")) {
    let current = "";
    try { current = readFileSync(out, "utf8"); } catch {}
    if (current !== text) {
      console.error("clients/zed/debug_adapter_schemas/ember.json is stale: run node clients/zed/scripts/generate-schema.mjs");
      process.exit(1);
    }
    console.log("ember.json matches schemas/");
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${out}`);
  }
}
