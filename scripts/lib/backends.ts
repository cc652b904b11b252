// The real programs tests, the demo and the benchmark run (VictoriaMetrics, Prometheus,
// Alertmanager, their tools, wrk, redis, nginx), taken from Debian's packages without installing
// them: `apt-get download` fetches the .deb, `dpkg-deb -x` unpacks it into a project-local cache.
// Nothing is installed, enabled or started system-wide, no root is needed when the package lists
// exist, and an unpacked package is reused until its Debian version changes.
//
// One module resolves every binary, so everything that starts a backend finds the same one: the
// cache first, then PATH (for machines without apt that have the programs installed).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Programs by the name callers use → Debian package and path inside it. */
const PROGRAMS = {
  'victoria-metrics': { pkg: 'victoria-metrics', path: 'usr/bin/victoria-metrics' },
  vmauth: { pkg: 'victoria-metrics', path: 'usr/bin/vmauth' },
  vmalert: { pkg: 'victoria-metrics', path: 'usr/bin/vmalert' },
  vmagent: { pkg: 'victoria-metrics', path: 'usr/bin/vmagent' },
  prometheus: { pkg: 'prometheus', path: 'usr/bin/prometheus' },
  promtool: { pkg: 'prometheus', path: 'usr/bin/promtool' },
  alertmanager: { pkg: 'prometheus-alertmanager', path: 'usr/bin/prometheus-alertmanager' },
  'prometheus-alertmanager': { pkg: 'prometheus-alertmanager', path: 'usr/bin/prometheus-alertmanager' },
  amtool: { pkg: 'prometheus-alertmanager', path: 'usr/bin/amtool' },
  wrk: { pkg: 'wrk', path: 'usr/bin/wrk' },
  // Debian's redis-server (package redis-server) is only a symlink to redis-check-rdb from
  // redis-tools; redis picks its mode by the name it is started as, so the cache gets the same
  // symlink inside redis-tools (see LINKS) and the service package is never needed.
  'redis-server': { pkg: 'redis-tools', path: 'usr/bin/redis-server' },
  'redis-cli': { pkg: 'redis-tools', path: 'usr/bin/redis-cli' },
  nginx: { pkg: 'nginx', path: 'usr/sbin/nginx' },
  // Chromium and its resources come from two packages and need dozens of libraries a server image
  // lacks: they are unpacked together into one bundle directory (see ensureBundle).
  chromium: { pkg: 'chromium', path: 'usr/lib/chromium/chromium' },
} as const;

export type Program = keyof typeof PROGRAMS;

/** Symlinks made inside an unpacked package: package → [link path, target]. */
const LINKS: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  'redis-tools': [['usr/bin/redis-server', 'redis-check-rdb']],
};

/** Every program tests, demo and benchmark use; `npm test` and `npm run bench` make sure of these. */
export const DEFAULT_PROGRAMS: readonly Program[] = [
  'victoria-metrics', 'vmauth', 'vmalert', 'vmagent', 'prometheus', 'promtool', 'alertmanager', 'amtool', 'wrk', 'redis-server', 'chromium',
];

/** Packages unpacked together, with every dependency this machine lacks: bundle → packages. */
const BUNDLES: Readonly<Record<string, readonly string[]>> = {
  chromium: ['chromium', 'chromium-common'],
};

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * The cache directory: `TENANTGATE_BACKENDS_DIR`, else `.cache/debs` in the checkout. A second
 * clone can point the variable at the first one's cache to skip the downloads.
 */
export function cacheDir(): string {
  const env = process.env['TENANTGATE_BACKENDS_DIR'];
  return env !== undefined && env !== '' ? resolve(env) : join(ROOT, '.cache', 'debs');
}

export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

/** Library directories of every unpacked package, for LD_LIBRARY_PATH. */
function libDirs(dir = cacheDir()): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const pkg of readdirSync(dir)) {
    for (const sub of ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu', 'usr/lib/aarch64-linux-gnu', 'lib/aarch64-linux-gnu', 'usr/lib']) {
      const d = join(dir, pkg, sub);
      if (existsSync(d)) out.push(d);
    }
  }
  return out;
}

function onPath(name: string): string | null {
  for (const d of (process.env['PATH'] ?? '').split(delimiter)) {
    if (d === '') continue;
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Where `program` lives: the cache first, then PATH; null when neither has it. */
export function findProgram(program: Program): string | null {
  const { pkg, path } = PROGRAMS[program];
  const cached = join(cacheDir(), pkg, path);
  if (existsSync(cached)) return cached;
  return onPath(path.slice(path.lastIndexOf('/') + 1));
}

/** Like findProgram, but a missing program is an error that says how to get it. */
export function programPath(program: Program): string {
  const p = findProgram(program);
  if (p !== null) return p;
  throw new BackendUnavailableError(`${program} is not available: run \`node scripts/ensure-backends.ts ${program}\` to unpack Debian's ${PROGRAMS[program].pkg} package into ${cacheDir()}, or put ${program} on PATH`);
}

/** The environment a cached program runs in: the cache's shared libraries come first. */
export function programEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const dirs = libDirs();
  const fonts = join(cacheDir(), 'chromium', 'fonts.conf');
  const env = existsSync(fonts) ? { ...base, FONTCONFIG_FILE: fonts } : { ...base };
  if (dirs.length === 0) return env;
  const prev = base['LD_LIBRARY_PATH'];
  return { ...env, LD_LIBRARY_PATH: [...dirs, ...(prev ? [prev] : [])].join(delimiter) };
}

// --- filling the cache ---------------------------------------------------------------------

export interface EnsureOptions {
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
}

const has = (cmd: string) => spawnSync('sh', ['-c', 'command -v "$0"', cmd], { stdio: 'ignore' }).status === 0;
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function aptEnv(): NodeJS.ProcessEnv {
  return { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
}

/** Private package lists, for a non-root user on a machine whose system lists are empty. */
function privateListOptions(dir: string): string[] {
  const lists = join(dir, '.apt', 'lists');
  mkdirSync(join(lists, 'partial'), { recursive: true });
  mkdirSync(join(dir, '.apt', 'cache', 'archives', 'partial'), { recursive: true });
  return ['-o', `Dir::State::Lists=${lists}`, '-o', `Dir::Cache=${join(dir, '.apt', 'cache')}`, '-o', 'Debug::NoLocking=1'];
}

function candidateVersion(pkg: string, aptOpts: readonly string[]): string | null {
  const r = spawnSync('apt-cache', [...aptOpts, 'policy', pkg], { encoding: 'utf8', env: aptEnv() });
  const m = /Candidate:\s*(\S+)/.exec(r.stdout ?? '');
  return m === null || m[1] === '(none)' ? null : m[1]!;
}

/** Direct dependencies that are shared libraries (not glibc, which must match the system's loader). */
function libraryDeps(pkg: string, aptOpts: readonly string[]): string[] {
  const r = spawnSync('apt-cache', [...aptOpts, 'depends', pkg], { encoding: 'utf8', env: aptEnv() });
  const out = new Set<string>();
  let alternative = false;
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^\s*(\|)?(?:Pre)?Depends:\s*(\S+)/.exec(line);
    if (m === null) continue;
    // `|Depends: a` then `Depends: b` means a or b: take the first.
    const name = m[2]!;
    // libjs-* are JavaScript for web UIs, not shared libraries.
    if (!alternative && /^lib/.test(name) && !/^lib(?:c6(?:-|$)|js-)/.test(name)) out.add(name);
    alternative = m[1] === '|';
  }
  return [...out];
}

function readStamp(dir: string): string | null {
  try { return readFileSync(join(dir, '.version'), 'utf8').trim(); } catch { return null; }
}

interface Apt {
  opts: string[];
  updated: boolean;
}

/**
 * Refreshes the package lists once per run: `apt-get update` as root; otherwise private lists
 * in the cache (apt-get runs as an ordinary user with its own Dir::State::Lists and Dir::Cache).
 */
function updateLists(apt: Apt, root: string, why: string, log: (s: string) => void): void {
  apt.updated = true;
  if (isRoot()) {
    log(`backends: ${why}; running apt-get update`);
    spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env: aptEnv() });
  } else {
    log(`backends: ${why}; fetching private package lists into ${join(root, '.apt')} (no root needed)`);
    apt.opts = privateListOptions(root);
    spawnSync('apt-get', [...apt.opts, 'update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env: aptEnv() });
  }
}

function download(pkg: string, version: string, apt: Apt, work: string): { deb: string | null; error: string } {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const dl = spawnSync('apt-get', [...apt.opts, 'download', '-qq', `${pkg}=${version}`], { cwd: work, encoding: 'utf8', env: aptEnv() });
  const deb = dl.status === 0 ? readdirSync(work).find((f) => f.endsWith('.deb')) ?? null : null;
  return { deb, error: (dl.stderr || dl.stdout || `apt-get exited ${dl.status}`).trim() };
}

/** Downloads and unpacks one package unless the cache already holds that version. */
function unpack(pkg: string, apt: Apt, root: string, log: (s: string) => void): void {
  const dest = join(root, pkg);
  const stamp = readStamp(dest);
  let version = candidateVersion(pkg, apt.opts);
  if (version === null && !apt.updated) {
    updateLists(apt, root, `the package lists do not have ${pkg}`, log);
    version = candidateVersion(pkg, apt.opts);
  }
  if (version === null) {
    if (stamp !== null) return; // offline, but unpacked earlier: good enough
    throw new BackendUnavailableError(`backends: Debian package ${pkg} cannot be had: apt knows no version of it (is a Debian mirror reachable, and does this release ship ${pkg}?)`);
  }
  if (stamp === version) return;
  const work = join(root, '.download');
  log(`backends: downloading ${pkg} ${version}`);
  let got = download(pkg, version, apt, work);
  if (got.deb === null && !apt.updated) {
    // Stale lists name a version the mirror no longer has (or no source for it).
    updateLists(apt, root, `apt-get download ${pkg} failed (${got.error.split('\n')[0]})`, log);
    const fresh = candidateVersion(pkg, apt.opts);
    if (fresh !== null) {
      version = fresh;
      if (stamp === version) { rmSync(work, { recursive: true, force: true }); return; }
      got = download(pkg, version, apt, work);
    }
  }
  if (got.deb === null) {
    rmSync(work, { recursive: true, force: true });
    throw new BackendUnavailableError(`backends: cannot download Debian package ${pkg} ${version}: ${got.error}`);
  }
  const tmp = `${dest}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  execFileSync('dpkg-deb', ['-x', join(work, got.deb), tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (const [link, target] of LINKS[pkg] ?? []) {
    rmSync(join(tmp, link), { force: true });
    symlinkSync(target, join(tmp, link));
  }
  writeFileSync(join(tmp, '.version'), version + '\n');
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  rmSync(work, { recursive: true, force: true });
}

/** Shared libraries a binary cannot find, as `ldd` reports them with the cache's libraries in reach. */
export function missingLibraries(binary: string): string[] {
  const r = spawnSync('ldd', [binary], { encoding: 'utf8', env: programEnv() });
  if (r.status !== 0) return []; // static binaries (Go): "not a dynamic executable"
  return [...r.stdout.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]!);
}

/**
 * Makes every listed program available from the cache, downloading what is missing. Throws a
 * BackendUnavailableError naming the package when one cannot be had.
 */
export function ensurePrograms(programs: readonly Program[] = DEFAULT_PROGRAMS, opts: EnsureOptions = {}): void {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const root = cacheDir();
  const ready = (p: Program) => {
    const bin = join(root, PROGRAMS[p].pkg, PROGRAMS[p].path);
    return existsSync(bin) && readStamp(join(root, PROGRAMS[p].pkg)) !== null && missingLibraries(bin).length === 0;
  };
  if (programs.every(ready)) return;
  if (!has('apt-get') || !has('dpkg-deb')) {
    const missing = programs.filter((p) => findProgram(p) === null);
    if (missing.length === 0) return;
    throw new BackendUnavailableError(`backends: ${missing.join(', ')} missing, and this machine has no apt-get/dpkg-deb to fetch Debian's packages; install them and put them on PATH`);
  }
  mkdirSync(root, { recursive: true });
  const apt: Apt = { opts: existsSync(join(root, '.apt', 'lists')) ? privateListOptions(root) : [], updated: false };
  const pkgs = [...new Set(programs.map((p) => PROGRAMS[p].pkg))];
  const done = new Set<string>();
  for (const pkg of pkgs) {
    if (BUNDLES[pkg] !== undefined) ensureBundle(pkg, apt, root, log);
    else unpack(pkg, apt, root, log);
    done.add(pkg);
  }
  // A dynamically linked program gets its package's direct library dependencies unpacked beside
  // it (redis' jemalloc, wrk's LuaJIT): a fresh machine has none of them, and resolving them from
  // the cache on every machine keeps what runs the same everywhere.
  for (const program of programs) {
    const bin = join(root, PROGRAMS[program].pkg, PROGRAMS[program].path);
    if (!isDynamic(bin) || BUNDLES[PROGRAMS[program].pkg] !== undefined) continue;
    for (const lib of libraryDeps(PROGRAMS[program].pkg, apt.opts)) {
      if (!done.has(lib)) { unpack(lib, apt, root, log); done.add(lib); }
    }
    const missing = missingLibraries(bin);
    if (missing.length > 0) throw new BackendUnavailableError(`backends: ${program} needs ${missing.join(', ')}, which neither the system nor its packages' direct dependencies provide`);
  }
}

function isDynamic(binary: string): boolean {
  return spawnSync('ldd', [binary], { stdio: 'ignore', env: programEnv() }).status === 0;
}

export function isProgram(name: string): name is Program {
  return Object.hasOwn(PROGRAMS, name);
}

/**
 * The packages `apt-get install` would add for `pkgs` on this machine (what it lacks), with
 * their versions; `pkgs` themselves are always included.
 */
function missingClosure(pkgs: readonly string[], apt: Apt): Map<string, string> {
  const r = spawnSync('apt-get', [...apt.opts, 'install', '-s', '-qq', '--no-install-recommends', ...pkgs], { encoding: 'utf8', env: aptEnv() });
  const out = new Map<string, string>();
  for (const m of (r.stdout ?? '').matchAll(/^Inst (\S+) (?:\[[^\]]*\] )?\((\S+)/gm)) out.set(m[1]!, m[2]!);
  for (const p of pkgs) if (!out.has(p)) { const v = candidateVersion(p, apt.opts); if (v !== null) out.set(p, v); }
  return out;
}

/**
 * Unpacks a bundle (Chromium) into one directory: its packages plus every dependency this machine
 * lacks, so the binary finds its resources beside it and its libraries through LD_LIBRARY_PATH.
 * Fonts unpacked with it are made known to fontconfig by a fonts.conf in the bundle.
 */
function ensureBundle(name: string, apt: Apt, root: string, log: (s: string) => void): void {
  const dest = join(root, name);
  let closure = missingClosure(BUNDLES[name]!, apt);
  if (closure.size < BUNDLES[name]!.length && !apt.updated) {
    updateLists(apt, root, `the package lists do not have ${name}`, log);
    closure = missingClosure(BUNDLES[name]!, apt);
  }
  if (closure.size < BUNDLES[name]!.length) {
    if (readStamp(dest) !== null) return;
    throw new BackendUnavailableError(`backends: Debian packages ${BUNDLES[name]!.join(', ')} cannot be had: apt knows no version of them`);
  }
  const stamp = [...closure].map(([p, v]) => `${p}=${v}`).sort().join(' ');
  if (readStamp(dest) === stamp) return;
  const work = join(root, '.download');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  log(`backends: downloading ${name} with ${closure.size - BUNDLES[name]!.length} libraries this machine lacks`);
  const dl = spawnSync('apt-get', [...apt.opts, 'download', '-qq', ...[...closure].map(([p, v]) => `${p}=${v}`)], { cwd: work, encoding: 'utf8', env: aptEnv() });
  if (dl.status !== 0) {
    rmSync(work, { recursive: true, force: true });
    throw new BackendUnavailableError(`backends: cannot download the ${name} packages: ${(dl.stderr || dl.stdout).trim().split('\n')[0]}`);
  }
  const tmp = `${dest}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const deb of readdirSync(work).filter((f) => f.endsWith('.deb'))) {
    execFileSync('dpkg-deb', ['-x', join(work, deb), tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  writeFileSync(join(tmp, 'fonts.conf'), `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>/usr/share/fonts</dir>
  <dir>${join(dest, 'usr', 'share', 'fonts')}</dir>
  <cachedir>${join(dest, '.fontcache')}</cachedir>
</fontconfig>
`);
  writeFileSync(join(tmp, '.version'), stamp + '\n');
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  rmSync(work, { recursive: true, force: true });
}
