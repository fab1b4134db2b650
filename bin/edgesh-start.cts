#!/usr/bin/env node
// The installed `edgesh` (package.json `bin`): starts the bundled shell from its V8 code cache, quickly.
//
// The build puts two lines in place of the first, so that run as a program it starts node without
// NODE_EXTRA_CA_CERTS, which node would load at every start and edgesh never uses
// (`startWithoutExtraCas` in scripts/bundle.ts).
//
// The bundle, its code cache and what happens without them: bin/launch-bundle.cts.
// Before anything is loaded: a password on the command line leaves the process list (see below).
hideSecretsFromProcessList();

import launcher = require('./launch-bundle.cjs');

/**
 * `edgesh -c '… password X'` (what sshd runs for `ssh host '…'`) shows X to every local user in the
 * process list (/proc/PID/cmdline) until the process replaces its title. This runs first, before
 * any module is loaded, and masks the word after `password` (or an abbreviation down to `pa`) and
 * the password of `user:password@`, roughly and to the safe side; once the grammar is loaded,
 * shell/main.ts sets the exact title (`password ****`) by the one rule (contexts/secret-words.ts,
 * from the parameters declared secret). This copy of the rule cannot import it: it must run
 * before anything is loaded. The instant between the start of the
 * process and this statement cannot be closed from inside: docs/shell.md says so.
 */
function hideSecretsFromProcessList(): void {
  const args = process.argv.slice(2);
  const masked = args.map((a) =>
    a
      .replace(
        /((?:^|[\s;|])pa(?:s(?:s(?:w(?:o(?:r(?:d)?)?)?)?)?)?\s+)(?:"(?:[^"\\]|\\.)*"?|'[^']*'?|\S+)/gi,
        '$1****',
      )
      .replace(/([^\s@/:;|]*):[^\s@]*@/g, '$1:****@'),
  );
  if (masked.some((m, i) => m !== args[i])) process.title = ['edgesh', ...masked].join(' ');
}

launcher.launchBundle('edgesh', () => void import('./edgesh.js'));
