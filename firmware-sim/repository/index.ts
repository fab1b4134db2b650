// The device's side of feeds: configuration, kept indexes, update, queries, plans and their application.
export { applyPlan, tellRemoval } from './apply.js';
export { noFeed, removeFeed, setFeed, updateFeeds } from './configure.js';
export type { RepositoryHost } from './host.js';
export { loadInstalled } from './installed.js';
export { planAutoremoval, planFeeds, planRemove } from './planning.js';
export {
  availableDetails,
  availablePackages,
  dependentsOf,
  dependsOf,
  feedNames,
  feedStatuses,
} from './queries.js';
