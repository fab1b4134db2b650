// Feeds: the index format (Packages, Release), its verification, the resolver and the indexer.
export { type Candidate, Encoding, type Excluded, type Group } from './encoding.js';
export { FeedError, type FeedErrorCode } from './errors.js';
export { explain, minimalUnsatisfiable } from './explain.js';
export {
  type AcceptedRelease,
  type FeedIndexFiles,
  type Freshness,
  type FreshnessOptions,
  type VerifiedIndex,
  verifyFeedIndex,
} from './freshness.js';
export { type IndexOptions, type IndexResult, indexFeed } from './indexer.js';
export {
  type Constraint,
  DEFAULT_PRIORITY,
  formatRequest,
  type HoldReason,
  type InstalledPackage,
  type Request,
  type ResolveOptions,
  type SystemPackage,
} from './jobs.js';
export {
  chunksOf,
  type FeedPackage,
  gunzipChunks,
  type IndexLimits,
  type IndexProblem,
  type PackagesIndex,
  PackagesIndexParser,
  type ParseIndexOptions,
  packageFromStanza,
  parsePackagesIndex,
  safeFilename,
} from './packages-index.js';
export {
  formatPlan,
  formatReason,
  formatStep,
  type HeldBack,
  type LostRequest,
  type Plan,
  type PlanStep,
  type Reason,
  type StepAction,
} from './plan.js';
export {
  formatGroup,
  type Offer,
  offers,
  parseRelationField,
  parseRelations,
  type RelationField,
  type Relations,
} from './relations.js';
export {
  formatRfc2822,
  parseRelease,
  parseRfc2822,
  type Release,
  type ReleaseEntry,
} from './release.js';
export { resolve } from './resolver.js';
export { autoremovable, planAutoremove, planRemoval, type ReverseOptions, whatDepends } from './reverse.js';
export { type SignedBy, verifyDetached } from './signature.js';
export { DEFAULT_STANZA_LIMITS, type Stanza, type StanzaLimits, StanzaReader } from './stanza-reader.js';
export { type FeedContent, type FeedEntry, type PackageSource, Universe } from './universe.js';
