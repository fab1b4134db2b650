// What commands work with: the services bag, the terminal, output, navigation, and the operator's prompts.
import type { Device } from '../firmware-sim/api.js';
import type { MediaLabel, MediaResolver } from '../media/types.js';
import type { OpenRemote, TransferProgress } from '../transports/types.js';

/** The transports layer as the contexts use it (`transports/index.ts`), loaded on first use. */
export interface TransportTools {
  readonly openRemote: OpenRemote;
  /** `192.0.2.1:21`, `[2001:db8::1]:21`. */
  readonly formatHostPort: (host: string, port: number) => string;
}

/** The media layer as the contexts use it (`media/index.ts`), loaded on first use. */
export interface MediaTools {
  readonly resolver: MediaResolver;
  /** Validates the words after `media` in the boot context: `LABEL [usb|sd|any] [fs-label X] …`. */
  readonly parseMediaLabelArgs: (tokens: readonly string[]) => MediaLabel;
  /** What a label matches, in words: `any external device, first partition`. */
  readonly describeLabel: (label: MediaLabel) => string;
  /** The configuration line of a label: `media my-usb usb fs-label FIRMWARE`. */
  readonly formatMediaLabel: (label: MediaLabel) => string;
}

/**
 * Everything below the shell, assembled once per session by `shell/services.ts` (or by a test's
 * fake services module). Layers a session may never use are loaded on first call.
 */
export interface Services {
  readonly device: Device;
  transports(): Promise<TransportTools>;
  media(): Promise<MediaTools>;
  /** Releases what the services hold; called once when the session ends. */
  close(): Promise<void>;
}

/** How output is drawn; set by the terminal, changed with `terminal …`. */
export interface TerminalSettings {
  /** Lines per page on a TTY; 0 = no paging. */
  readonly length: number;
  /** Columns available for tables. */
  readonly width: number;
  /** Plain ASCII instead of box drawing and `…`. */
  ascii: boolean;
  /**
   * `terminal width N`; `auto` follows the terminal again (its width as it changes, 80 columns when
   * it reports none).
   */
  setWidth(columns: number | 'auto'): void;
  /** `terminal length N`; `auto` follows the terminal again (its height less one; no paging without a TTY). */
  setLength(lines: number | 'auto'): void;
  /**
   * Automation mode (docs/automation.md): the prompt drawn once, no line editor, no colour, progress
   * bar or paging, ASCII tables never cut, and no question ever asked.
   */
  readonly automation: boolean;
  /**
   * `terminal automation` / `terminal automation off`. On: ASCII, no paging, tables as wide as their
   * content (`terminal width|length|utf8` after it still apply); off: the terminal's own settings again.
   */
  setAutomation(on: boolean): void;
}

/**
 * What a yes/no question is about: confirming the operator's own command (`Remove package x
 * (y/N)?`), which `-y` answers; or trusting something new that the operator did not name (an SSH
 * host key), which `-y` does not answer.
 */
export type QuestionKind = 'command' | 'trust';

/** The operator's side of a command: questions, passwords, progress. Script mode answers from stdin. */
export interface Prompter {
  /**
   * Asks a yes/no question (printed exactly as given, e.g. `Remove package x (y/N)?`); only
   * `y`/`yes` is yes. `about` defaults to `command`.
   */
  confirm(question: string, about?: QuestionKind): Promise<boolean>;
  /** Asks for a secret without echo; `undefined` when nobody can answer (end of input). */
  password(prompt: string): Promise<string | undefined>;
  /** A progress callback for a transfer, or `undefined` when no bar is drawn (script mode). */
  progress(label: string): ProgressHandle | undefined;
  /**
   * Every confirmation is answered yes without asking (`-y` in script mode). A command whose
   * question a script cannot foresee (removing dependents too) refuses in script mode unless it is set.
   */
  readonly assumeYes?: boolean;
}

/** A progress bar being drawn; `done` clears it. */
export interface ProgressHandle {
  readonly update: (progress: TransferProgress) => void;
  /** Says what happens before bytes flow (`trying ftp 192.0.2.1:21…`), in the bar's place. */
  readonly note?: (text: string) => void;
  done(): void;
}

/** Where a command writes what it prints; filters and the pager sit behind it. */
export interface Output {
  /** Writes text followed by a line end; text may hold several lines. */
  line(text?: string): void;
  /** Warnings go to stderr, one line each (`Warning: …`), past the filters. */
  warn(text: string): void;
}

/** Moves on the context stack (klish's five verbs, minus replace). */
export interface Navigation {
  /** Enters a context from the top level (`package`, `boot`). */
  enter(context: string): void;
  /** Leaves the current context; at the top level ends the session. */
  exit(): void;
  /** Back to the top level. */
  top(): void;
}

/** What completion functions may look at (installed names, media labels). */
export interface CompletionEnv {
  readonly services: Services;
}
