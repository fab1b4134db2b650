// `import()` of a module file named at run time: the EDGESH_SERVICES test hook.

/**
 * Imports the ES module at `url`. The bundle (scripts/bundle.ts) replaces this module by a call to
 * the `import()` of its launcher: code that V8 compiled from a code cache cannot run `import()` on
 * Node 20 ("A dynamic import callback was not specified"), so the bundle holds none of its own.
 */
export function importFile(url: string): Promise<unknown> {
  return import(url);
}
