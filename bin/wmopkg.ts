#!/usr/bin/env node
// `wmopkg`: the packaging tool (SPEC §6); the commands live in wmopkg/main.ts. The build puts two lines
// in place of the first, so that run as a program it starts node without NODE_EXTRA_CA_CERTS
// (`startWithoutExtraCas` in scripts/bundle.ts).
import { wmopkgMain } from '../wmopkg/main.js';

process.exitCode = await wmopkgMain(process.argv.slice(2));
