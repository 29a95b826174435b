/**
 * File transfer end to end (issue 17 §1): the real API, service and a root helper (`keepRoot`) for a
 * session whose user the test creates; the built viewer in headless Chromium. One file each way with
 * its SHA-256 checked on both ends and the upload owned by that user (written by a files worker
 * running as the user), names the helper refuses, and an upload cancelled midway leaving nothing behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from '../../src/demo/demo-stack.js';
import { canCreateUsers, createTestUser, type TestUser } from '../fixtures/test-user.js';
import { waitFor } from '../fixtures/wait-for.js';
import { launchChromium, type Browser } from '../viewer/browser-fixture.js';

const artifacts = 'test-results/e2e';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const run = canCreateUsers() ? describe : describe.skip;

let stack: DemoStack;
let browser: Browser;
let page: Page;
let user: TestUser;

beforeAll(async () => {
  if (!canCreateUsers()) return;
  mkdirSync(artifacts, { recursive: true });
  user = createTestUser('phe2e');
  stack = await startDemoStack({
    sessions: [
      { colour: '#204060', title: 'files', width: 640, height: 480, bare: true, username: user.name },
    ],
    keepRoot: true,
  });
  await waitFor(() => /"helper ready"/.test(stack.serviceOutput()), {
    what: 'a ready helper',
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto(await stack.loginUrl('e2e-files'));
  await page
    .locator(`#session option[value="${stack.displays[0]!.number}"]`)
    .waitFor({ state: 'attached', timeout: 30_000 });
  await page.selectOption('#session', String(stack.displays[0]!.number));
  await page.click('#connect');
  await page.waitForFunction(() => (document.querySelector('video')?.videoWidth ?? 0) > 0, undefined, {
    timeout: 30_000,
  });
}, 180_000);

afterAll(async () => {
  if (stack) writeFileSync(`${artifacts}/files-service.log`, stack.serviceOutput());
  if (page) await page.screenshot({ path: `${artifacts}/files-last.png` }).catch(() => undefined);
  await browser?.close();
  await stack?.stop();
  user?.remove();
});

const rowState = (name: string) =>
  page.evaluate((n) => {
    const rows = [...document.querySelectorAll('#files-transfers li')];
    const row = rows.find((r) => r.querySelector('.name')?.textContent?.slice(2) === n);
    return row
      ? `${(row as HTMLElement).dataset.state} ${row.querySelector('.state')?.textContent ?? ''}`
      : 'none';
  }, name);

run('file transfer in Chromium', () => {
  it('uploads a picked file into the user Downloads, owned by the user, checksum matched', async () => {
    await page.click('#files-toggle');
    const data = randomBytes(300_000);
    await page.setInputFiles('#file-pick', {
      name: 'hello.bin',
      mimeType: 'application/octet-stream',
      buffer: data,
    });
    await expect.poll(() => rowState('hello.bin'), { timeout: 60_000 }).toMatch(/^complete/);
    const path = join(user.home, 'Downloads', 'hello.bin');
    expect(sha(readFileSync(path))).toBe(sha(data));
    expect(statSync(path)).toMatchObject({ uid: user.uid, gid: user.gid });
  });

  it('refuses ../x, CON and a:b dropped on the video, and writes nothing for them', async () => {
    await page.evaluate(() => {
      const dt = new DataTransfer();
      for (const n of ['../x', 'CON', 'a:b']) dt.items.add(new File(['nope'], n));
      const target = document.querySelector('video')!;
      target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
    });
    for (const n of ['../x', 'CON', 'a:b']) {
      await expect.poll(() => rowState(n), { timeout: 60_000 }).toMatch(/^failed .*bad_name/);
    }
    expect(readdirSync(join(user.home, 'Downloads'))).toEqual(['hello.bin']);
    expect(existsSync(join(user.home, 'x'))).toBe(false);
  });

  it('cancels an upload midway and leaves no partial file in Downloads', async () => {
    await page.evaluate(() => {
      const dt = new DataTransfer();
      // Large enough to be still on its way when Cancel is pressed.
      dt.items.add(new File([new Uint8Array(200 * 1024 * 1024)], 'big.bin'));
      const target = document.querySelector('video')!;
      target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
    });
    const progress = () =>
      page.evaluate(() => {
        const row = [...document.querySelectorAll('#files-transfers li')].find((r) =>
          r.querySelector('.name')?.textContent?.endsWith('big.bin'),
        );
        return Number(row?.querySelector('progress')?.getAttribute('value') ?? 0);
      });
    // The bar moves with the helper's acks, which count bytes already written: past 1 MiB, a partial
    // file of at least that much exists in Downloads.
    await expect.poll(progress, { timeout: 60_000, interval: 20 }).toBeGreaterThan(1024 * 1024);
    await page.evaluate(() => {
      const row = [...document.querySelectorAll('#files-transfers li')].find((r) =>
        r.querySelector('.name')?.textContent?.endsWith('big.bin'),
      );
      (row?.querySelector('button.cancel') as HTMLButtonElement | null)?.click();
    });
    await expect.poll(() => rowState('big.bin'), { timeout: 30_000 }).toMatch(/^cancelled/);
    expect(await progress()).toBeLessThan(200 * 1024 * 1024);
    // The helper removes the partial file (and any temporary name) once the cancel reaches it.
    await expect
      .poll(() => readdirSync(join(user.home, 'Downloads')), { timeout: 10_000 })
      .toEqual(['hello.bin']);
  });

  it('browses the home and downloads a file, saved by the browser with the same checksum', async () => {
    const data = randomBytes(500_000);
    const path = join(user.home, 'report.bin');
    writeFileSync(path, data);
    chownSync(path, user.uid, user.gid);
    // Reopen the panel to list the home again.
    await page.click('#files-toggle');
    await page.click('#files-toggle');
    const entry = page.locator('#files-listing button[data-name="report.bin"]');
    await entry.waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), entry.click()]);
    expect(download.suggestedFilename()).toBe('report.bin');
    const saved = join(artifacts, 'downloaded-report.bin');
    await download.saveAs(saved);
    expect(sha(readFileSync(saved))).toBe(sha(data));
    expect(await rowState('report.bin')).toMatch(/^complete/);
  });

  it('audits each transfer with the viewer, the name, size and outcome, never the bytes', async () => {
    const lines = () =>
      readFileSync(join(stack.api.dataDir, 'audit.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.action === 'file_transfer');
    await expect.poll(() => lines().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(6);
    const seen = lines().map(({ viewer, direction, file, ok, code }) => ({
      viewer,
      direction,
      file,
      ok,
      code,
    }));
    expect(seen).toEqual(
      expect.arrayContaining([
        { viewer: 'e2e-files', direction: 'upload', file: 'hello.bin', ok: true, code: undefined },
        { viewer: 'e2e-files', direction: 'upload', file: 'big.bin', ok: false, code: 'cancelled' },
        { viewer: 'e2e-files', direction: 'download', file: 'report.bin', ok: true, code: undefined },
        expect.objectContaining({ viewer: 'e2e-files', direction: 'upload', ok: false, code: 'bad_name' }),
      ]),
    );
    expect(lines().find((l) => l.file === 'hello.bin')).toMatchObject({ size: 300_000 });
  });
});
