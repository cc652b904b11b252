import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePushFlags, withExtraLabels } from '../../../src/observe/push-metrics.ts';

test('extra labels go into every sample line, with or without existing labels', () => {
  const text = '# HELP a A.\n# TYPE a counter\na 1\nb{x="y"} 2\nc{} 3\nd_sum{q="1"} 4.5\n';
  assert.equal(withExtraLabels(text, ['instance="gw1"', 'job="tg"']),
    '# HELP a A.\n# TYPE a counter\na{instance="gw1",job="tg"} 1\nb{instance="gw1",job="tg",x="y"} 2\nc{instance="gw1",job="tg"} 3\nd_sum{instance="gw1",job="tg",q="1"} 4.5\n');
  assert.equal(withExtraLabels(text, []), text);
});

test('bad push flags are refused with the flag named', () => {
  assert.equal(validatePushFlags(['http://vm:8428/api/v1/import/prometheus'], ['instance="a"'], ['Authorization: Basic x']), null);
  assert.match(validatePushFlags(['ftp://x'], [], []) ?? '', /-pushmetrics.url must be an http\(s\) URL/);
  assert.match(validatePushFlags([], ['instance=a'], []) ?? '', /invalid -pushmetrics.extraLabel="instance=a"; expected name="value"/);
  assert.match(validatePushFlags([], ['bad-name="x"'], []) ?? '', /invalid -pushmetrics.extraLabel/);
  assert.match(validatePushFlags([], [], ['NoColon']) ?? '', /invalid -pushmetrics.header="NoColon"/);
});
