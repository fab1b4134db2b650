// The `boot` context (SPEC §3.5): allow-untrusted, media labels, the secure-boot unlock token, firmware fallback.
import { MAX_PARTITION } from '../common/media-label.js';
import type { MediaLabel } from '../common/vocabulary.js';
import { commonCommands, commonGroups } from './common.js';
import { type BootShowDoc, bootShowDoc } from './device-docs.js';
import { CliError } from './errors.js';
import { changeText } from './firmware.js';
import {
  type ArgsOf,
  arg,
  type CommandEnv,
  type Context,
  command,
  oneOf,
  option,
  options,
} from './grammar.js';
import { AFTER_REBOOT } from './package.js';
import { address, filePath, fsLabel, fsUuid, mediaLabel, number } from './param-types.js';
import { openSource, sourceOptions } from './source.js';
import { renderFields, renderPairs } from './table.js';

async function showBoot(env: CommandEnv): Promise<BootShowDoc> {
  const device = env.services.device;
  const [config, info, firmware, media] = await Promise.all([
    device.bootConfig(),
    device.info(),
    device.firmware(),
    env.services.media(),
  ]);
  return bootShowDoc(config, info, firmware, media);
}

function printBoot(doc: BootShowDoc, env: CommandEnv): void {
  // On a device with a secure-boot anchor, a setting without a valid token (a configuration edited
  // by hand, a token of another device) is not honoured by the boot: say so where it is shown.
  const fields: Array<[string, string]> = [
    [
      'allow-untrusted',
      !doc.allow_untrusted
        ? 'off'
        : doc.allow_untrusted_in_force
          ? 'on'
          : 'on (not in force: secure boot needs an unlock token)',
    ],
    ['secure boot', doc.secure_boot ? 'on (allow-untrusted needs an unlock token)' : 'off'],
    [
      'unlock token',
      doc.unlock_token === null
        ? 'none'
        : `serial ${doc.unlock_token.serial}, key ${doc.unlock_token.signing_key}`,
    ],
    [
      'firmware fallback',
      !doc.firmware_fallback
        ? 'not set'
        : doc.firmware_next?.kind === 'fallback'
          ? `set: ${changeText(doc.firmware_next)} at the next reboot`
          : 'set',
    ],
  ];
  for (const line of renderFields(fields)) env.out.line(line);
  env.out.line('Media labels:');
  const labels = doc.media.map((l): [string, string] => [l.config_line, l.matches]);
  for (const line of renderPairs(labels, env.session.terminal.width, 2)) env.out.line(line);
  for (const problem of doc.problems) {
    env.out.warn(`${problem} (allow-untrusted counts as off until a boot command rewrites the file)`);
  }
}

async function setMedia(args: ArgsOf<typeof mediaParams>, env: CommandEnv): Promise<void> {
  // Each word was checked by its parameter type (the media-label rule); the device checks the whole.
  const { label: name, bus = 'any', ...match } = args;
  const label: MediaLabel = { name, bus, ...match };
  const media = await env.services.media();
  await env.services.device.setMediaLabel(label);
  env.out.line(`Media label ${label.name}: ${media.describeLabel(label)}.`);
}

/**
 * `firmware fallback`: asks first, naming the firmware it falls back to. Without a fallback (an empty
 * or failed slot, a firmware package waiting) the device refuses before anything is asked.
 */
async function firmwareFallback(env: CommandEnv): Promise<void> {
  const device = env.services.device;
  const firmware = await device.firmware();
  const other = firmware.slots.find((slot) => slot.name !== firmware.active);
  if (firmware.next?.kind !== 'install' && other?.state === 'fallback') {
    const question = `Fall back to firmware ${other.version} in slot ${other.name} at the next reboot (y/N)?`;
    if (!(await env.ui.confirm(question))) {
      throw new CliError('CLI_NOT_CONFIRMED', 'not confirmed, nothing was changed');
    }
  }
  const change = await device.setFirmwareFallback(true);
  env.out.line(
    `Firmware fallback to ${change?.to ?? '?'} in slot ${change?.slot ?? '?'} is set. ${AFTER_REBOOT}`,
  );
}

/** `unlock`; interrupted, it says so in one way whichever layer stopped (as `install` does). */
async function unlock(args: ArgsOf<typeof unlockParams>, env: CommandEnv): Promise<void> {
  try {
    await unlockFrom(args, env);
  } catch (e) {
    if (!env.signal.aborted) throw e;
    throw new CliError('CLI_ABORTED', 'unlock cancelled; no token was installed', { cause: e });
  }
}

async function unlockFrom(args: ArgsOf<typeof unlockParams>, env: CommandEnv): Promise<void> {
  const source = await openSource({ ...args, path: args.file }, env);
  try {
    const token = await env.services.device.installUnlockToken(source.transfer.stream);
    env.out.line(
      `Unlock token installed for serial ${token.serial} (key ${token.keyNumber}); allow-untrusted may now be set.`,
    );
  } finally {
    source.done();
    source.transfer.stream.destroy();
  }
}

const mediaParams = [
  arg('label', mediaLabel, { help: 'Label name (new or existing)' }),
  options(
    oneOf('bus', [
      { word: 'usb', help: 'USB drives only' },
      { word: 'sd', help: 'SD cards only' },
      { word: 'any', help: 'Any external drive (the default)' },
    ]),
    option('fs-label', fsLabel, 'Match the filesystem label', { key: 'fsLabel' }),
    option('uuid', fsUuid, 'Match the filesystem UUID (as lsblk shows it)'),
    option(
      'partition',
      number('N', 'Partition number', 1, MAX_PARTITION),
      'Partition number (default: the first)',
    ),
  ),
] as const;
const unlockParams = [
  options(...sourceOptions),
  arg('address', address, { skipIf: (a) => a.media !== undefined }),
  arg('file', filePath, { help: 'Unlock token file, e.g. token.lic' }),
] as const;

/** The `boot` context. */
export const bootContext: Context = {
  name: 'boot',
  path: '/boot/#',
  groups: { ...commonGroups, no: 'Undo a setting', firmware: 'The firmware slots' },
  commands: [
    command({
      name: 'allow-untrusted',
      help: 'Activate unsigned and untrusted packages at boot (never invalid ones)',
      run: async (_args, env) => {
        await env.services.device.setAllowUntrusted(true);
        env.out.line(`allow-untrusted is on. ${AFTER_REBOOT}`);
      },
    }),
    command({
      name: 'no allow-untrusted',
      help: 'Activate only packages signed by a trusted key (the default)',
      run: async (_args, env) => {
        await env.services.device.setAllowUntrusted(false);
        env.out.line(`allow-untrusted is off. ${AFTER_REBOOT}`);
      },
    }),
    command({
      name: 'media',
      help: 'Define or change a media label: which drive and partition it names',
      params: mediaParams,
      run: setMedia,
    }),
    command({
      name: 'no media',
      help: 'Delete a media label',
      params: [arg('label', mediaLabel)],
      run: async (args, env) => {
        await env.services.device.removeMediaLabel(args.label);
        env.out.line(`Media label ${args.label} deleted.`);
      },
    }),
    command({
      name: 'firmware fallback',
      help: 'Run the firmware of the other slot from the next reboot (asks first)',
      run: async (_args, env) => firmwareFallback(env),
    }),
    command({
      name: 'no firmware fallback',
      help: 'Keep the firmware that runs: cancel a firmware fallback',
      run: async (_args, env) => {
        const was = (await env.services.device.bootConfig()).firmwareFallback === true;
        await env.services.device.setFirmwareFallback(false);
        env.out.line(was ? 'Firmware fallback cancelled.' : 'No firmware fallback was set.');
      },
    }),
    command({
      name: 'show',
      help: 'Show the boot configuration',
      data: async (_args, env) => showBoot(env),
      text: printBoot,
    }),
    command({
      name: 'unlock',
      help: 'Install a vendor-signed unlock token for this device (secure boot)',
      params: unlockParams,
      run: unlock,
    }),
    ...commonCommands,
  ],
};
