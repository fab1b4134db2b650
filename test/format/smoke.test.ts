import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROTOCOLS } from '../../transports/types.js';

test('protocol table lists the six protocols of the manual', () => {
  assert.deepEqual([...PROTOCOLS], ['ftp', 'tftp', 'scp', 'sftp', 'http', 'https']);
});
