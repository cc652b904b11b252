#!/usr/bin/env node
// Installs the real backends the integration tests run against (VictoriaMetrics, vmauth, vmalert,
// Prometheus, promtool, Alertmanager, amtool, wrk) from Debian's packages when they are missing.
// Runs before `npm test` and `npm run bench` so a fresh machine needs no manual set-up.
import { execFileSync, spawnSync } from 'node:child_process';

const wanted = [
  ['victoria-metrics', 'victoria-metrics'],
  ['vmauth', 'victoria-metrics'],
  ['vmalert', 'victoria-metrics'],
  ['prometheus', 'prometheus'],
  ['promtool', 'prometheus'],
  ['prometheus-alertmanager', 'prometheus-alertmanager'],
  ['amtool', 'prometheus-alertmanager'],
  ['wrk', 'wrk'],
  ['redis-server', 'redis-server'],
];

const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const missing = [...new Set(wanted.filter(([bin]) => !has(bin)).map(([, pkg]) => pkg))];
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const sudo = isRoot ? [] : has('sudo') ? ['sudo', '-n'] : null;
if (sudo === null) {
  console.error(`ensure-backends: missing Debian packages ${missing.join(' ')} and not root; install them with apt-get.`);
  process.exit(1);
}
const run = (args) => execFileSync(args[0], args.slice(1), {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
});
console.log(`ensure-backends: installing ${missing.join(' ')} from Debian packages`);
run([...sudo, 'apt-get', 'update', '-qq']);
run([...sudo, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
