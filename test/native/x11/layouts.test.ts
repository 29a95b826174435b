/**
 * The koffi struct layouts must match the C headers byte for byte, or Xlib reads garbage. This
 * compiles a tiny C program against the installed headers, prints sizeof/offsetof, and compares.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import koffi, { type TypeObject } from 'koffi';
import { afterAll, describe, expect, it } from 'vitest';
import { XFixesCursorImageStruct } from '../../../src/native/x11/xfixes.js';
import { XShmSegmentInfoStruct } from '../../../src/native/x11/xext-shm.js';
import { XErrorEventStruct, XImageStruct, XRectangleStruct } from '../../../src/native/x11/xlib.js';
import { XRRMonitorInfoStruct } from '../../../src/native/x11/xrandr.js';
import { XScreenSaverInfoStruct } from '../../../src/native/x11/xss.js';
import {
  XCharStructStruct,
  XEventOffsets,
  XFontStructStruct,
  XSetWindowAttributesStruct,
} from '../../../src/native/x11/xwindow.js';

const structs: Record<string, { type: TypeObject; fields: string[] }> = {
  XImage: {
    type: XImageStruct,
    fields: [
      'width',
      'height',
      'format',
      'data',
      'depth',
      'bytes_per_line',
      'bits_per_pixel',
      'red_mask',
      'obdata',
      'f',
    ],
  },
  XRectangle: { type: XRectangleStruct, fields: ['x', 'y', 'width', 'height'] },
  XErrorEvent: { type: XErrorEventStruct, fields: ['serial', 'error_code', 'request_code', 'minor_code'] },
  XShmSegmentInfo: { type: XShmSegmentInfoStruct, fields: ['shmseg', 'shmid', 'shmaddr', 'readOnly'] },
  XFixesCursorImage: {
    type: XFixesCursorImageStruct,
    fields: ['x', 'y', 'width', 'height', 'xhot', 'yhot', 'cursor_serial', 'pixels', 'atom', 'name'],
  },
  XSetWindowAttributes: {
    type: XSetWindowAttributesStruct,
    fields: [
      'background_pixel',
      'border_pixel',
      'bit_gravity',
      'backing_store',
      'backing_planes',
      'save_under',
      'event_mask',
      'do_not_propagate_mask',
      'override_redirect',
      'colormap',
      'cursor',
    ],
  },
  XCharStruct: { type: XCharStructStruct, fields: ['lbearing', 'width', 'descent', 'attributes'] },
  XFontStruct: {
    type: XFontStructStruct,
    fields: [
      'fid',
      'direction',
      'all_chars_exist',
      'properties',
      'min_bounds',
      'max_bounds',
      'per_char',
      'ascent',
      'descent',
    ],
  },
  XScreenSaverInfo: {
    type: XScreenSaverInfoStruct,
    fields: ['window', 'state', 'kind', 'til_or_since', 'idle', 'eventMask'],
  },
  XRRMonitorInfo: {
    type: XRRMonitorInfoStruct,
    fields: [
      'name',
      'primary',
      'automatic',
      'noutput',
      'x',
      'y',
      'width',
      'height',
      'mwidth',
      'mheight',
      'outputs',
    ],
  },
};

const dir = mkdtempSync(path.join(tmpdir(), 'porthole-x11-layout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function measureInC(): Map<string, number> {
  const lines = Object.entries(structs).flatMap(([name, { fields }]) => [
    `printf("${name} %zu\\n", sizeof(${name}));`,
    ...fields.map((f) => `printf("${name}.${f} %zu\\n", offsetof(${name}, ${f}));`),
  ]);
  const src = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <X11/Xlib.h>',
    '#include <X11/Xutil.h>',
    '#include <X11/extensions/XShm.h>',
    '#include <X11/extensions/Xfixes.h>',
    '#include <X11/extensions/Xrandr.h>',
    '#include <X11/extensions/scrnsaver.h>',
    'int main(void) {',
    ...lines,
    `printf("XEvent %zu\\n", sizeof(XEvent));`,
    ...[
      ['window', 'XAnyEvent', 'window'],
      ['buttonX', 'XButtonEvent', 'x'],
      ['buttonY', 'XButtonEvent', 'y'],
      ['buttonButton', 'XButtonEvent', 'button'],
      ['exposeCount', 'XExposeEvent', 'count'],
      ['visibilityState', 'XVisibilityEvent', 'state'],
    ].map(([key, type, field]) => `printf("event.${key} %zu\\n", offsetof(${type}, ${field}));`),
    'return 0; }',
  ].join('\n');
  writeFileSync(path.join(dir, 'layout.c'), src);
  execFileSync('gcc', ['-o', path.join(dir, 'layout'), path.join(dir, 'layout.c')]);
  const out = execFileSync(path.join(dir, 'layout')).toString();
  return new Map(
    out
      .trim()
      .split('\n')
      .map((l) => [l.split(' ')[0] ?? '', Number(l.split(' ')[1])]),
  );
}

describe('X11 struct layouts', () => {
  const c = measureInC();

  for (const [name, { type, fields }] of Object.entries(structs)) {
    it(`${name} has the size and field offsets of the C header`, () => {
      expect(koffi.sizeof(type)).toBe(c.get(name));
      for (const f of fields) expect([f, koffi.offsetof(type, f)]).toEqual([f, c.get(`${name}.${f}`)]);
    });
  }

  it('the indicator reads its events at the offsets of the C structs', () => {
    for (const [key, offset] of Object.entries(XEventOffsets)) {
      if (key === 'type') continue;
      expect([key, offset]).toEqual([key, c.get(`event.${key}`)]);
    }
  });

  it('XEvent buffers are as large as the C union', async () => {
    const { XEVENT_SIZE } = await import('../../../src/native/x11/xlib.js');
    expect(XEVENT_SIZE).toBe(c.get('XEvent'));
  });
});
