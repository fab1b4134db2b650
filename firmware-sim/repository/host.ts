// What the repository needs of the device it runs in: the install host's paths, facts, lock and log, and the request hooks.
import type { RequestHook } from '../api.js';
import type { InstallHost } from '../store/install.js';

/** The device as the repository uses it. */
export interface RepositoryHost extends InstallHost {
  /** Hooks told of every request a committed plan or removal carried. */
  readonly hooks: ReadonlySet<RequestHook>;
}
