#!/usr/bin/env node
// tenantgate command line: `tenantgate [vmauth flags]` runs the gateway;
// `tenantgate isolate …` and `tenantgate webhook …` run the Kubernetes namespace-isolation tools.
const argv = process.argv.slice(2);
const sub = argv[0];
let code: number;
if (sub === 'isolate' || sub === 'webhook') {
  const m = await import('./isolate/cli.ts');
  code = sub === 'isolate' ? await m.isolateMain(argv.slice(1)) : await m.webhookMain(argv.slice(1));
} else {
  const m = await import('./gateway/main.ts');
  code = await m.gatewayMain(argv);
}
if (code !== 0) process.exitCode = code;
