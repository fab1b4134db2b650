#!/usr/bin/env node
// `wmopkg`: the packaging tool (SPEC §6); the commands live in firmware-sim/format/tool.ts.
import { wmopkgMain } from '../firmware-sim/format/tool.js';

process.exitCode = await wmopkgMain(process.argv.slice(2));
