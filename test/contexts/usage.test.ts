// The usage line and help of commands whose grammar takes a keyword in two places (install's dry-run, confirm).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usage } from '../../contexts/grammar.js';
import { packageContext } from '../../contexts/package.js';
import { updaterContext } from '../../contexts/updater.js';

function install() {
  const found = packageContext.commands.find((c) => c.name === 'install');
  assert.ok(found);
  return found;
}

test('usage of install names dry-run and confirm once, at the end where both forms take them', () => {
  const line = usage(install());
  for (const word of ['dry-run', 'confirm', 'no-recommends', 'persistent']) {
    assert.equal(line.split(`[${word}]`).length - 1, 1, `${word} once in: ${line}`);
  }
  // A file install's own words (reboot, version) follow the two shared ones.
  assert.match(
    line,
    /\[no-recommends\] \[PKGNAME\.wmopkg\] \[dry-run\] \[confirm\] \[reboot\] \[version <version>\]$/,
  );
});

test('both dry-run entries of install say the same, so that help describes it once truly', () => {
  const helps = new Set<string>();
  for (const param of install().params ?? []) {
    if (param.kind !== 'options') continue;
    for (const decl of param.options)
      if (decl.kind === 'flag' && decl.word === 'dry-run') helps.add(decl.help);
  }
  assert.equal(helps.size, 1, [...helps].join(' | '));
  assert.match([...helps][0]!, /plan.*fetch and verify/);
});

test('every feed and updater command has a document (| json)', () => {
  const feeds = [
    'feed',
    'no feed',
    'show feeds',
    'update',
    'install',
    'remove',
    'upgrade',
    'autoremove',
    'show',
  ];
  for (const name of feeds) {
    const c = packageContext.commands.find((x) => x.name === name);
    assert.ok(c?.data, `package ${name} has data`);
  }
  for (const name of [
    'install',
    'uninstall',
    'no install',
    'no uninstall',
    'show',
    'plan',
    'run',
    'approval',
    'approve',
    'delay',
    'reboot',
  ]) {
    assert.ok(updaterContext.commands.find((c) => c.name === name)?.data, `updater ${name} has data`);
  }
});
