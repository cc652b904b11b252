// The generated configuration is accepted by the real tools: vmagent (-promscrape.config.dryRun),
// promtool check config / check rules, vmalert -dryRun and amtool check-config. Each validator is
// also fed a broken file once, so a validator that accepts everything would fail this test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { YAML_OUT } from '../../src/isolate/cli.ts';
import { compile, type CompileResult } from '../../src/isolate/compile.ts';
import { makeOptions, type Flavor } from '../../src/isolate/options.ts';
import { tempDir } from '../helpers/processes.ts';
import { isProgram, programEnv, programPath } from '../../scripts/lib/backends.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/isolate');
const files = ['team-a.yaml', 'team-b.yaml'].map((f) => ({ name: f, text: readFileSync(join(FIXTURES, f), 'utf8') }));

function run(cmd: string, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(isProgram(cmd) ? programPath(cmd) : cmd, args, { encoding: 'utf8', timeout: 30_000, env: programEnv() });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const dir = tempDir('tenantgate-isolate-tools-');
after(() => dir.remove());

function write(name: string, v: unknown): string {
  const p = join(dir.path, name);
  writeFileSync(p, typeof v === 'string' ? v : stringify(v, YAML_OUT));
  return p;
}

for (const flavor of ['victoriametrics', 'prometheus-operator'] as Flavor[]) {
  describe(`generated output, ${flavor} flavour`, () => {
    let r: CompileResult;
    before(() => {
      r = compile(files, makeOptions({ label: 'tenant', flavor }));
      assert.deepEqual(r.errors.map((e) => e.describe()), []);
      assert.deepEqual(r.counts, { scrape: 7, rules: 2, alertmanager: 2 });
    });

    it('vmagent accepts the scrape configuration (all kinds, kubernetes_sd included)', () => {
      const p = write(`${flavor}-scrape.yml`, r.scrapeConfig);
      const res = run('vmagent', [`-promscrape.config=${p}`, '-promscrape.config.dryRun', '-loggerLevel=ERROR']);
      assert.equal(res.code, 0, res.out);
    });

    it('amtool accepts the Alertmanager configuration', () => {
      const p = write(`${flavor}-am.yml`, r.alertmanager);
      const res = run('amtool', ['check-config', p]);
      assert.equal(res.code, 0, res.out);
      assert.match(res.out, /SUCCESS/);
    });

    if (flavor === 'prometheus-operator') {
      it('promtool accepts the rule file', () => {
        const p = write('po-rules.yml', r.rules);
        const res = run('promtool', ['check', 'rules', p]);
        assert.equal(res.code, 0, res.out);
        assert.match(res.out, /SUCCESS: 3 rules found/);
      });

      it('promtool accepts the scrape configuration (static jobs; see note on kubernetes_sd)', () => {
        const jobs = r.scrapeConfig.scrape_configs as Array<Record<string, unknown>>;
        // Debian's Prometheus 2.42 is built without Kubernetes service discovery, so promtool
        // rejects kubernetes_sd_configs here; those jobs are covered by vmagent above. If this
        // Prometheus has Kubernetes SD, every job is checked.
        const probe = run('promtool', ['check', 'config', write('k8s-probe.yml', { scrape_configs: [{ job_name: 'p', kubernetes_sd_configs: [{ role: 'pod' }] }] })]);
        const k8s = probe.code === 0;
        const selected = k8s ? jobs : jobs.filter((j) => j.kubernetes_sd_configs === undefined);
        assert.ok(selected.length >= 2);
        const res = run('promtool', ['check', 'config', write('po-scrape.yml', { ...r.scrapeConfig, scrape_configs: selected })]);
        assert.equal(res.code, 0, res.out);
      });
    } else {
      it('vmalert -dryRun accepts the rule file (with params.extra_label)', () => {
        const p = write('vm-rules.yml', r.rules);
        assert.match(readFileSync(p, 'utf8'), /extra_label:\n\s+- tenant=team-a/);
        const res = run('vmalert', ['-dryRun', `-rule=${p}`, '-datasource.url=http://127.0.0.1:1', '-loggerLevel=ERROR']);
        assert.equal(res.code, 0, res.out);
      });
    }
  });
}

describe('the validators reject broken input (so the checks above can fail)', () => {
  it('vmagent, promtool, vmalert and amtool each refuse a broken file', () => {
    const scrape = write('bad-scrape.yml', 'scrape_configs:\n  - job_name: x\n    static_configs: [{targets: ["a:1"]}]\n    relabel_configs: [{action: nonsense}]\n');
    assert.notEqual(run('vmagent', [`-promscrape.config=${scrape}`, '-promscrape.config.dryRun', '-loggerLevel=ERROR']).code, 0);
    assert.notEqual(run('promtool', ['check', 'config', scrape]).code, 0);
    const rules = write('bad-rules.yml', 'groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n');
    assert.notEqual(run('promtool', ['check', 'rules', rules]).code, 0);
    assert.notEqual(run('vmalert', ['-dryRun', `-rule=${rules}`, '-datasource.url=http://127.0.0.1:1', '-loggerLevel=ERROR']).code, 0);
    const am = write('bad-am.yml', 'route:\n  receiver: missing\nreceivers:\n  - name: other\n');
    assert.notEqual(run('amtool', ['check-config', am]).code, 0);
  });
});

describe('tenantgate isolate CLI', () => {
  it('writes the three files, reports rejected objects and exits 1 when some were rejected', () => {
    const out = join(dir.path, 'cli-out');
    const bad = write('bad-objects.yaml', 'apiVersion: operator.victoriametrics.com/v1beta1\nkind: VMStaticScrape\nmetadata: {name: evil, namespace: team-c}\nspec:\n  targetEndpoints:\n    - targets: ["a:1"]\n      metricRelabelConfigs:\n        - action: labeldrop\n          regex: tenant\n');
    const cli = join(import.meta.dirname, '../../src/cli.ts');
    const res = spawnSync(process.execPath, [cli, 'isolate', '--label', 'tenant', '--out', out, FIXTURES, bad], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /error: .*bad-objects\.yaml#0 \(line 1\) VMStaticScrape team-c\/evil: spec\.targetEndpoints\[0\]\.metricRelabelConfigs\[0\]: labeldrop rule may remove or rewrite the enforced label "tenant"/);
    assert.match(res.stderr, /7 scrape, 2 rule, 2 alertmanager objects compiled; 1 rejected/);
    const scrape = readFileSync(join(out, 'scrape.yml'), 'utf8');
    assert.doesNotMatch(scrape, /team-c/);
    assert.equal(run('amtool', ['check-config', join(out, 'alertmanager.yml')]).code, 0);
    const usage = spawnSync(process.execPath, [cli, 'isolate', FIXTURES], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(usage.status, 2);
  });
});
