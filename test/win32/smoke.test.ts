import { expect, test } from 'vitest';
test('runs on win32', () => {
  expect(process.platform).toBe('win32');
});
