// The launch/attach examples users copy (docs/dap.md, the README, the schemas' own examples)
// must validate against schemas/{launch,attach}.schema.json, and the schemas must reject what
// the adapter rejects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import Ajv from 'ajv';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
const schemas = {
  launch: JSON.parse(readFileSync(path.join(root, 'schemas/launch.schema.json'), 'utf8')),
  attach: JSON.parse(readFileSync(path.join(root, 'schemas/attach.schema.json'), 'utf8')),
};
const validate = { launch: ajv.compile(schemas.launch), attach: ajv.compile(schemas.attach) };

function check(config, where) {
  const v = validate[config.request];
  assert.ok(v, `${where}: "request" must be launch or attach, got ${config.request}`);
  assert.ok(v(config), `${where}: ${JSON.stringify(config)}\n${ajv.errorsText(v.errors)}`);
}

// Ember configurations in the ```json blocks of a Markdown file.
function markdownConfigs(file) {
  const text = readFileSync(file, 'utf8');
  const out = [];
  for (const m of text.matchAll(/```json\n([\s\S]*?)```/g)) {
    const doc = JSON.parse(m[1]);
    for (const c of doc.configurations ?? [doc]) {
      if (c.type === 'ember') out.push(c);
    }
  }
  return out;
}

test('the examples in docs/dap.md validate', () => {
  const configs = markdownConfigs(path.join(root, 'docs/dap.md'));
  assert.ok(configs.filter((c) => c.request === 'launch').length >= 2, 'launch examples present');
  assert.ok(configs.filter((c) => c.request === 'attach').length >= 3, 'attach examples present');
  configs.forEach((c, i) => check(c, `docs/dap.md example ${i + 1}`));
});

test('the README examples validate (when it has Ember configurations)', (t) => {
  const readme = path.join(root, 'README.md');
  if (!existsSync(readme)) return t.skip('no README.md yet');
  const configs = markdownConfigs(readme);
  if (configs.length === 0) return t.skip('README.md has no ```json Ember configuration');
  configs.forEach((c, i) => check(c, `README.md example ${i + 1}`));
});

test("the schemas' own examples validate", () => {
  for (const [name, s] of Object.entries(schemas)) {
    assert.ok(s.examples.length > 0);
    s.examples.forEach((c, i) => check(c, `${name} schema example ${i + 1}`));
  }
});

test('the schemas reject what the adapter rejects', () => {
  const bad = [
    { request: 'launch', name: 'neither program nor module' },
    { request: 'launch', program: 'a.py', module: 'a' },
    { request: 'launch', program: '' },
    { request: 'launch', program: 'a.py', rate: 'fast' },
    { request: 'launch', program: 'a.py', rate: 0 },
    { request: 'launch', program: 'a.py', duration: -1 },
    { request: 'launch', program: 'a.py', console: 'tty' },
    { request: 'launch', program: 'a.py', args: 5 },
    { request: 'attach' },
    { request: 'attach', processId: 'abc' },
    { request: 'attach', processId: 0 },
    { request: 'attach', processId: -12 },
  ];
  for (const c of bad) {
    assert.equal(validate[c.request](c), false, `should be invalid: ${JSON.stringify(c)}`);
  }
  // What pickers send: a number or a numeric string.
  assert.ok(validate.attach({ request: 'attach', processId: 4242 }));
  assert.ok(validate.attach({ request: 'attach', processId: '4242' }));
});
