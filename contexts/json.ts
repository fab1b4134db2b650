// JSON documents of `COMMAND | json` (docs/automation.md): the value types a document may hold, and the one way it is written.

/** A value a document may hold. `undefined` is not one: a key that does not apply is `null`. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;

/**
 * A document, or an object inside one. Declare a document as a `type` of an object literal (an
 * `interface` has no index signature and is not assignable here): the compiler then checks that every
 * key holds JSON, and a key that may not apply says `| null` instead of being optional.
 */
export type JsonObject = { readonly [key: string]: JsonValue };

/** Every UTF-16 unit outside printable ASCII (DEL and above; below space JSON escapes already). */
const NON_ASCII = /[\u007f-\uffff]/g;

/**
 * The document as printed: indented by two spaces, every character outside printable ASCII written
 * as a `\uXXXX` escape (a character beyond the BMP as its two surrogates, `\ud83d\ude00`), so that it
 * is the same bytes whatever the locale, and text of a package or a server can never reach a terminal
 * as a control sequence. No line end at the end (the output adds it).
 */
export function formatJson(doc: JsonObject): string {
  return JSON.stringify(doc, null, 2).replace(
    NON_ASCII,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `value`, or `null` when it is `undefined`: an optional field of the device as a document's key. */
export function orNull<T>(value: T | undefined): T | null {
  return value === undefined ? null : value;
}
