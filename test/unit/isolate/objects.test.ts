// Envelopes, namespaces and whole-file compilation: errors name file, document, field and reason,
// and one bad object never stops the others.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile } from '../../../src/isolate/compile.ts';
import { hardenObject } from '../../../src/isolate/harden.ts';
import { makeOptions } from '../../../src/isolate/options.ts';

const opts = makeOptions({ label: 'tenant' });
const scrape = (namespace: unknown) => ({ apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMStaticScrape', metadata: { name: 's', namespace }, spec: { targetEndpoints: [{ targets: ['a:1'] }] } });

describe('object envelope', () => {
  it('an empty or missing namespace is refused', () => {
    assert.throws(() => hardenObject(scrape(''), opts), { code: 'ERR_ISOLATE_NAMESPACE' });
    assert.throws(() => hardenObject(scrape(undefined), opts), { code: 'ERR_ISOLATE_NAMESPACE' });
  });
  it('a namespace that is not a valid label value / DNS-1123 label is refused', () => {
    for (const ns of ['Team-A', 'team_a', 'a"b', 'team-a\n', '-a', 'x'.repeat(64), 'a/b']) {
      assert.throws(() => hardenObject(scrape(ns), opts), { code: 'ERR_ISOLATE_NAMESPACE' }, ns);
    }
  });
  it('the admission namespace wins; a different metadata.namespace is refused', () => {
    assert.equal(hardenObject(scrape(''), opts, 'team-a').object.metadata.namespace, 'team-a');
    assert.throws(() => hardenObject(scrape('team-b'), opts, 'team-a'), /claims namespace "team-b"/);
  });
  it('unknown kinds and wrong API groups are refused', () => {
    assert.throws(() => hardenObject({ ...scrape('a'), kind: 'Deployment' }, opts), /unsupported kind/);
    assert.throws(() => hardenObject({ ...scrape('a'), apiVersion: 'monitoring.coreos.com/v1' }, opts), /apiVersion/);
  });
  it('the enforced label must be a valid, non-reserved label name', () => {
    assert.throws(() => makeOptions({ label: 'ten-ant' }), { code: 'ERR_ISOLATE_USAGE' });
    assert.throws(() => makeOptions({ label: '__name__' }), { code: 'ERR_ISOLATE_USAGE' });
  });
});

describe('compile', () => {
  it('reports file, document index, line and field per bad object and compiles the rest', () => {
    const text = [
      'apiVersion: operator.victoriametrics.com/v1beta1\nkind: VMStaticScrape\nmetadata: {name: ok, namespace: team-a}\nspec: {targetEndpoints: [{targets: ["a:1"]}]}',
      'apiVersion: operator.victoriametrics.com/v1beta1\nkind: VMStaticScrape\nmetadata: {name: bad, namespace: team-b}\nspec: {targetEndpoints: [{targets: ["a:1"], honorLabels: true}]}',
      'apiVersion: v1\nkind: [unclosed',
    ].join('\n---\n');
    const r = compile([{ name: 'repo/x.yaml', text }], opts);
    assert.equal(r.counts.scrape, 1);
    assert.equal(r.errors.length, 2);
    assert.equal(r.errors[0]!.describe(), 'repo/x.yaml#1 (line 6) VMStaticScrape team-b/bad: spec.targetEndpoints[0].honorLabels: honorLabels: true lets scraped series keep their own labels over the target labels; refused (use --unsafe=neutralise to force it to false) [ERR_ISOLATE_UNSAFE]');
    assert.equal(r.errors[1]!.code, 'ERR_ISOLATE_YAML');
    assert.match(r.errors[1]!.describe(), /^repo\/x\.yaml#2 \(line 11\) .*line 12/);
    assert.deepEqual((r.scrapeConfig.scrape_configs as any[]).map((j) => j.job_name), ['staticScrape/team-a/ok/0']);
  });
  it('the same object twice is a conflict', () => {
    const doc = 'apiVersion: operator.victoriametrics.com/v1beta1\nkind: VMStaticScrape\nmetadata: {name: ok, namespace: team-a}\nspec: {targetEndpoints: [{targets: ["a:1"]}]}';
    const r = compile([{ name: 'a.yaml', text: doc }, { name: 'b.yaml', text: doc }], opts);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]!.code, 'ERR_ISOLATE_CONFLICT');
  });
  it('a job name already used by the base scrape configuration fails only that object', () => {
    const doc = (name: string) => `apiVersion: operator.victoriametrics.com/v1beta1\nkind: VMStaticScrape\nmetadata: {name: ${name}, namespace: team-a}\nspec: {targetEndpoints: [{targets: ["a:1"]}]}`;
    const r = compile([{ name: 'a.yaml', text: `${doc('one')}\n---\n${doc('two')}` }], opts, { scrape: { scrape_configs: [{ job_name: 'staticScrape/team-a/one/0', static_configs: [{ targets: ['b:1'] }] }] } });
    assert.deepEqual(r.errors.map((e) => e.code), ['ERR_ISOLATE_CONFLICT']);
    assert.deepEqual((r.scrapeConfig.scrape_configs as any[]).map((j) => j.job_name), ['staticScrape/team-a/one/0', 'staticScrape/team-a/two/0']);
  });
});
