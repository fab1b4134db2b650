#!/usr/bin/env node
// `wmopkg`: the packaging tool (SPEC §6); the commands live in wmopkg/main.ts.
import { wmopkgMain } from '../wmopkg/main.js';

process.exitCode = await wmopkgMain(process.argv.slice(2));
