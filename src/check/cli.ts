// `tenantgate check …`: offline checks of configuration the gateway depends on.
import { CHECK_ALERTMANAGER_USAGE, checkAlertmanagerMain } from './alertmanager.ts';

const USAGE = `usage: tenantgate check alertmanager [options] FILE...\n\n${CHECK_ALERTMANAGER_USAGE}`;

export function checkMain(argv: readonly string[]): number {
  switch (argv[0]) {
    case 'alertmanager': return checkAlertmanagerMain(argv.slice(1));
    case '-h': case '--help': case 'help': process.stdout.write(USAGE); return 0;
    default:
      process.stderr.write(`${argv[0] === undefined ? 'missing' : `unknown`} check${argv[0] === undefined ? '' : ` ${JSON.stringify(argv[0])}`}\n${USAGE}`);
      return 2;
  }
}
