#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// `wmopkg`: the packaging tool (SPEC §6); the commands live in wmopkg/main.ts. The shebang drops
// NODE_EXTRA_CA_CERTS, which node would load at every start and wmopkg never uses (bin/edgesh-start.cts).
import { wmopkgMain } from '../wmopkg/main.js';

process.exitCode = await wmopkgMain(process.argv.slice(2));
