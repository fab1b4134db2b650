// `device.updater` before the updater's room is loaded: each call loads it once and forwards.
import type { Updater } from '../api.js';
import type { UpdaterHost } from './host.js';

/**
 * `device.updater` without loading the updater's room: each call loads it (once) and forwards. The
 * prompt, `package show` and a boot never load the resolver.
 */
export function lazyUpdater(host: () => UpdaterHost): Updater {
  let loaded: Promise<Updater> | undefined;
  const real = () => {
    loaded ??= import('./updater.js').then(({ DeviceUpdater }) => new DeviceUpdater(host()));
    return loaded;
  };
  return {
    status: async () => (await real()).status(),
    setRequest: async (request) => (await real()).setRequest(request),
    dropRequest: async (kind, name) => (await real()).dropRequest(kind, name),
    setApproval: async (on) => (await real()).setApproval(on),
    setDelay: async (hours) => (await real()).setDelay(hours),
    setReboot: async (mode) => (await real()).setReboot(mode),
    approve: async (id) => (await real()).approve(id),
    plan: async (options) => (await real()).plan(options),
    run: async (options) => (await real()).run(options),
  };
}
