#!/usr/bin/env node
// `npm start` entry: plain JavaScript, so any Node can run it far enough to say what is wrong.
// The demo itself (scripts/demo.ts) is TypeScript, which Node runs natively from version 24 on;
// `npm ci` installs Node 24 into node_modules/.bin, where npm scripts find it first.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`npm start needs Node.js 24 or newer and found ${process.version} (${process.execPath}); run \`npm ci\` first: it installs Node 24 for the npm scripts.\n`);
  process.exit(1);
}
await import('./demo.ts');
