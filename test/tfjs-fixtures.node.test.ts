import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

// The models of test/fixtures/tfjs/ are what scripts/make-tfjs-fixtures.mjs writes from its
// seeds, the weights byte for byte, model.json as JSON: nobody edited them by hand, and the script still describes them.
it('test/fixtures/tfjs/ is what scripts/make-tfjs-fixtures.mjs writes', () => {
  const result = spawnSync(process.execPath, ['scripts/make-tfjs-fixtures.mjs', '--check'], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
});
