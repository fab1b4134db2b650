// The .wmopkg format: streaming reader, verifier, writer, signify keys, control files, versions.
export { PACKAGE_NAME } from '../../common/package-name.js';
export { printable } from '../../common/text.js';
export { type ArHeader, ArParser, arHeader as arHeaderFor } from './ar.js';
export {
  type BuildTree,
  type BuildTreeOptions,
  type Owner,
  readBuildTree,
  resolveOwner,
} from './build-tree.js';
export {
  ControlFile,
  decodeUtf8,
  formatControl,
  MAX_FIELD_BYTES,
  parseControl,
  REQUIRED_FIELDS,
  validateControl,
} from './control.js';
export {
  type Dependency,
  type DependsList,
  formatDependency,
  parseDepends,
  type Relation,
  satisfies,
} from './depends.js';
export { FormatError, type FormatErrorCode } from './errors.js';
export { type GzipTarLimits, GzipTarParser, type TarEntryHandler, tarStream } from './gzip-tar.js';
export {
  checkKindFields,
  hotfixFirmware,
  KIND_TAGS,
  type PackageKind,
  packageKind,
  REMOVE_BACKUP_FIELD,
  REMOVE_PACKAGE_FIELD,
  type Removal,
  removalOf,
  tagsOf,
} from './kinds.js';
export { formatManifest, type Manifest, type ManifestEntry, parseManifest } from './manifest.js';
export {
  DEFAULT_LIMITS,
  type FormatLimits,
  type Layout,
  MEMBER,
  type MemberHash,
  type MemberInfo,
  PackageReader,
  type PackageReading,
  type ReadOptions,
  readPackage,
  readPackageFile,
} from './reader.js';
export { reviveReading } from './reading-clone.js';
export { type RemovalOptions, removalPackageName, removalPackageSpec } from './removal.js';
export {
  checkSignature,
  DEFAULT_KDF_ROUNDS,
  formatPublicKey,
  formatSecretKey,
  formatSignature,
  generateKeyPair,
  isEncryptedSecretKey,
  keyNumberHex,
  type PublicKey,
  parsePublicKey,
  parseSecretKey,
  parseSignature,
  publicKeyOf,
  type SecretKey,
  type Signature,
  type SignatureCheck,
  signMessage,
} from './signify.js';
export {
  loadTrustStore,
  parseRevocationList,
  REVOCATION_UNREADABLE,
  type RevocationProblem,
  type TrustedKey,
  type TrustStore,
  trustStoreOf,
  type Verdict,
  verifyPackage,
} from './verify.js';
export { compareVersions, parseVersion, type Version } from './version.js';
export {
  type ControlMember,
  type DataEntry,
  type PackageSpec,
  signPackageFile,
  type WriteLayout,
  type WrittenPackage,
  writePackage,
} from './writer.js';
