#!/usr/bin/env node
// `wmopkg`, its modules unbundled (the installed one, bin/wmopkg-start.cts, runs them as one bundle);
// the commands live in wmopkg/main.ts. The build puts two lines in place of the first, so that run as
// a program it starts node without NODE_EXTRA_CA_CERTS (`startWithoutExtraCas` in scripts/bundle.ts).
import { wmopkgMain } from '../wmopkg/main.js';

// Not a top-level await: the bundle (scripts/bundle.ts) is CommonJS.
void wmopkgMain(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
