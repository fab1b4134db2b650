#!/usr/bin/env node
// The installed `wmopkg` (package.json `bin`): starts the bundled packaging tool from its V8 code cache.
//
// A start of the modules themselves spent 30-40 ms resolving and compiling them, about as long as
// node's own start; packaging pipelines and `wmopkg verify` start it once per package (the bundle,
// its cache and what happens without them: bin/launch-bundle.cts). The build puts two lines in
// place of the first, so that run as a program it starts node without NODE_EXTRA_CA_CERTS
// (`startWithoutExtraCas` in scripts/bundle.ts).
import launcher = require('./launch-bundle.cjs');

launcher.launchBundle('wmopkg', () => void import('./wmopkg.js'));
