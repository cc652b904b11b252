// `tenantgate webhook`: the admission webhook server.
import { openSync, readFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Logger } from '../../observe/logger.ts';
import { goStyleLoggerFormat } from '../log-switch.ts';
import { IsolationError } from '../errors.ts';
import { makeOptions, type Flavor, type IsolateOptions } from '../options.ts';
import { loadPolicyFile } from '../policy/load.ts';
import { auditLine } from './audit.ts';
import { createWebhookServer } from './server.ts';

const USAGE = `usage: tenantgate webhook --label LABEL --tls-cert-file FILE --tls-key-file FILE [options]

Serves Kubernetes AdmissionReview v1 over HTTPS: POST /mutate (adds the enforced label, final
relabel rules, scoped expressions as a JSON patch) and POST /validate (denies what is not safe).
  --listen HOST:PORT            default 0.0.0.0:8443
  --label LABEL                 enforced tenant label (required)
  --flavor F                    victoriametrics (default) or prometheus-operator
  --unsafe reject|neutralise    default reject
  --allow-file-access           allow *File fields (off by default)
  --reserved-label NAME         repeatable; default for victoriametrics: vm_account_id, vm_project_id
  --policy FILE                 alert-definition policy; violations are denied with every reason
  --audit-log FILE              append one JSON line per admission decision there (default: stdout)
  --tls-cert-file FILE          serving certificate (PEM, required)
  --tls-key-file FILE           its private key (PEM, required)
  --loggerFormat default|json   log lines as text (default, like the gateway) or JSON; the
                                gateway's -loggerFormat (one dash works too)
  -h, --help                    this help
`;

/** Every option `tenantgate webhook` takes; the usage text above lists each one. */
export const WEBHOOK_OPTIONS = {
  listen: { type: 'string' },
  label: { type: 'string' },
  flavor: { type: 'string' },
  unsafe: { type: 'string' },
  'allow-file-access': { type: 'boolean' },
  'reserved-label': { type: 'string', multiple: true },
  'tls-cert-file': { type: 'string' },
  'tls-key-file': { type: 'string' },
  policy: { type: 'string' },
  'audit-log': { type: 'string' },
  loggerFormat: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const WEBHOOK_USAGE = USAGE;

export async function webhookMain(argv: readonly string[]): Promise<number> {
  let opts: IsolateOptions;
  let listen: string;
  let cert: Buffer;
  let key: Buffer;
  let log: Logger;
  let auditFd = 1;
  try {
    const { values } = parseArgs({ args: goStyleLoggerFormat(argv), options: WEBHOOK_OPTIONS });
    if (values.help === true) { process.stdout.write(USAGE); return 0; }
    log = new Logger({ level: 'INFO', format: values.loggerFormat ?? 'default', output: 'stderr', disableTimestamps: false });
    if (values.label === undefined) throw new IsolationError('ERR_ISOLATE_USAGE', '--label', 'is required');
    if (values['tls-cert-file'] === undefined || values['tls-key-file'] === undefined) throw new IsolationError('ERR_ISOLATE_USAGE', '--tls-cert-file/--tls-key-file', 'are required (the API server only calls webhooks over HTTPS)');
    const flavor = values.flavor ?? 'victoriametrics';
    if (flavor !== 'victoriametrics' && flavor !== 'prometheus-operator') throw new IsolationError('ERR_ISOLATE_USAGE', '--flavor', 'must be victoriametrics or prometheus-operator');
    const unsafeMode = values.unsafe ?? 'reject';
    if (!['reject', 'neutralise', 'neutralize'].includes(unsafeMode)) throw new IsolationError('ERR_ISOLATE_USAGE', '--unsafe', 'must be reject or neutralise');
    const reserved = values['reserved-label'];
    const policy = values.policy !== undefined ? loadPolicyFile(values.policy) : undefined;
    if (values['audit-log'] !== undefined) auditFd = openSync(values['audit-log'], 'a', 0o600);
    opts = makeOptions({
      ...(policy !== undefined ? { policy } : {}),
      label: values.label,
      flavor: flavor as Flavor,
      unsafe: unsafeMode === 'reject' ? 'reject' : 'neutralise',
      allowFileAccess: values['allow-file-access'] === true,
      ...(reserved !== undefined ? { reservedLabels: reserved } : {}),
    });
    listen = values.listen ?? '0.0.0.0:8443';
    cert = readFileSync(values['tls-cert-file']);
    key = readFileSync(values['tls-key-file']);
  } catch (err) {
    process.stderr.write(`tenantgate webhook: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const m = /^(.*):(\d+)$/.exec(listen);
  if (m === null) { process.stderr.write(`tenantgate webhook: --listen must be HOST:PORT\n`); return 2; }
  const host = m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0';
  const server = createWebhookServer({
    cert, key, isolate: opts,
    onReview: (e) => writeSync(auditFd, auditLine(e.path, e.decision)),
    onReject: (e) => writeSync(auditFd, `${JSON.stringify({ time: new Date().toISOString(), msg: 'admission request refused', path: e.path, status: e.status, error: e.error })}\n`),
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(Number(m[2]), host, () => resolve()); });
  const addr = server.address();
  log.info('tenantgate webhook listening', { address: typeof addr === 'object' && addr !== null ? `${addr.address}:${addr.port}` : listen, label: opts.label, flavor: opts.flavor });
  return new Promise<number>((resolve) => {
    const stop = () => { server.close(() => resolve(0)); server.closeAllConnections(); };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
