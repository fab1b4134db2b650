// Golden transcripts of the updater context on the real device, its feeds served by the mock network;
// UPDATE_GOLDEN=1 rewrites test/golden/updater/.
import { join } from 'node:path';
import { registerGoldens } from '../helpers/golden.js';
import { ROOT, WORLD } from '../helpers/run-edgesh.js';
import { updaterGoldens, updaterWorld } from '../helpers/updater-goldens.js';

const root = join(WORLD.dir, 'updater-feeds');
const world = await updaterWorld(root, WORLD.config.servers);

registerGoldens(await updaterGoldens(root, world), join(ROOT, 'test/golden/updater'));
