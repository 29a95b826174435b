/**
 * The D3D11/DXGI calls the DXGI capturer makes, behind an interface: `win32-dxgi-api.ts` implements it
 * with koffi (COM vtables), the unit tests with a fake device, so the capturer's recovery decisions
 * (re-create the duplication, rebuild the device chain, back off, give up) run on Linux.
 *
 * A *chain* is what one CreateDXGIFactory1 sees: every adapter (IDXGIFactory1::EnumAdapters1), its
 * outputs attached to the desktop, and, created on first use, one D3D11 device per adapter. It is
 * rebuilt as a whole whenever a duplication is lost (Sunshine's habit): a mode change, a desktop switch,
 * a removed or reset device, or a factory that is no longer current all end in a fresh enumeration.
 *
 * Failures of these calls are `Win32Error`s with `hresult: true` (the HRESULT in `win32Code`).
 */
import { DXGI_ADAPTER_FLAG_SOFTWARE } from '../../native/win32/dxgi.js';
import type { Rect } from './capturer.js';

/** One output attached to the desktop, as the chain enumerated it. */
export interface DxgiOutputInfo {
  /** DXGI_OUTPUT_DESC.DeviceName (`\\.\DISPLAY1`): the same name GDI's MONITORINFOEXW reports. */
  name: string;
  /** DXGI_ADAPTER_DESC1.Description of the adapter it is connected to. */
  adapter: string;
  /** Position of that adapter in EnumAdapters1's order. */
  adapterIndex: number;
  /** Position of the output in its adapter's EnumOutputs order. */
  outputIndex: number;
  /** DesktopCoordinates, in physical pixels of the virtual desktop. */
  rect: Rect;
  /** DXGI_MODE_ROTATION (1 = identity; 2, 3, 4 = 90°, 180°, 270°). */
  rotation: number;
}

/** A CPU-readable copy target (a D3D11 STAGING texture) of one size and format. */
export interface DxgiStaging {
  readonly width: number;
  readonly height: number;
  readonly format: number;
  /** Map → copies `height` rows of `width × 4` bytes into `into` at `stride` → Unmap. */
  read(into: Buffer, stride: number): void;
  close(): void;
}

/** A frame held between AcquireNextFrame and ReleaseFrame. */
export interface DxgiFrame {
  /** LastPresentTime ≠ 0: the desktop image changed (false: only the pointer moved). */
  readonly presented: boolean;
  /** The desktop texture's size and DXGI_FORMAT (after a mode change: the new size). */
  readonly width: number;
  readonly height: number;
  readonly format: number;
  /** Move-rect destinations and dirty rects of this frame, in texture coordinates. */
  changedRects(): Rect[];
  /** ID3D11DeviceContext::CopyResource of the desktop texture into `staging`. */
  copyTo(staging: DxgiStaging): void;
  /** ReleaseFrame and the frame's references. Never throws. */
  release(): void;
}

export interface DxgiDuplication {
  /** AcquireNextFrame: the frame, or the failing HRESULT (DXGI_ERROR_WAIT_TIMEOUT included). */
  acquireNextFrame(timeoutMs: number): DxgiFrame | number;
  /** A staging texture matching `frame`'s size and format, on the duplication's device. */
  createStaging(frame: DxgiFrame): DxgiStaging;
  /** Releases the duplication and its staging textures. Idempotent. */
  close(): void;
}

export interface DxgiChain {
  /** Attached outputs of every adapter, in display order (see `orderOutputs`). */
  readonly outputs: readonly DxgiOutputInfo[];
  /** IDXGIFactory1::IsCurrent: false once adapters (or, in practice, the display setup) changed. */
  isCurrent(): boolean;
  /**
   * IDXGIOutput1::DuplicateOutput on a device created on the output's own adapter (D3D11CreateDevice
   * with that adapter; created once per adapter and chain).
   */
  duplicate(output: DxgiOutputInfo): DxgiDuplication;
  /** Releases every duplication, device, output, adapter and the factory. Idempotent. */
  close(): void;
}

export interface DxgiApi {
  /** CreateDXGIFactory1 and the enumeration of adapters and outputs. */
  open(): DxgiChain;
}

/** What the enumeration reads of an adapter (DXGI_ADAPTER_DESC1). */
export interface AdapterDesc {
  description: string;
  flags: number;
}

/** What the enumeration reads of an output (DXGI_OUTPUT_DESC). */
export interface OutputDesc {
  deviceName: string;
  attached: boolean;
  rect: { left: number; top: number; right: number; bottom: number };
  rotation: number;
}

/**
 * The COM walk the enumeration makes, over references `A` (IDXGIAdapter1) and `O` (IDXGIOutput1):
 * the koffi implementation calls the factory, the tests pass a fake factory.
 */
export interface FactoryWalk<A, O> {
  /** EnumAdapters1(index); undefined at DXGI_ERROR_NOT_FOUND. */
  adapter(index: number): A | undefined;
  describeAdapter(adapter: A): AdapterDesc;
  /** EnumOutputs(index) as IDXGIOutput1; undefined at DXGI_ERROR_NOT_FOUND. */
  output(adapter: A, index: number): O | undefined;
  describeOutput(output: O): OutputDesc;
  release(ref: A | O): void;
}

export interface Enumeration<A, O> {
  /** Adapters kept (those with an attached output), in EnumAdapters1 order. */
  adapters: { index: number; ref: A; description: string }[];
  /** Attached outputs, in display order. */
  outputs: { ref: O; info: DxgiOutputInfo }[];
}

/**
 * Every adapter and its outputs attached to the desktop. EnumAdapters1 returns the adapter showing
 * the primary desktop first, then other adapters with outputs, then those without; EnumOutputs the
 * primary output first. Kept: hardware adapters with at least one attached output; an output name
 * seen twice (defensive: one monitor reported under two adapters) keeps its first adapter. Every
 * reference not kept is released before returning, and all of them when a call throws.
 */
export function enumerateOutputs<A, O>(walk: FactoryWalk<A, O>): Enumeration<A, O> {
  const adapters: Enumeration<A, O>['adapters'] = [];
  const found: Enumeration<A, O>['outputs'] = [];
  const seen = new Set<string>();
  try {
    for (let a = 0; ; a += 1) {
      const adapter = walk.adapter(a);
      if (adapter === undefined) break;
      let keep = false;
      try {
        const desc = walk.describeAdapter(adapter);
        if ((desc.flags & DXGI_ADAPTER_FLAG_SOFTWARE) !== 0) continue;
        for (let o = 0; ; o += 1) {
          const output = walk.output(adapter, o);
          if (output === undefined) break;
          let keepOutput = false;
          try {
            const d = walk.describeOutput(output);
            if (!d.attached || seen.has(d.deviceName)) continue;
            seen.add(d.deviceName);
            const rect = {
              x: d.rect.left,
              y: d.rect.top,
              width: d.rect.right - d.rect.left,
              height: d.rect.bottom - d.rect.top,
            };
            found.push({
              ref: output,
              info: {
                name: d.deviceName,
                adapter: desc.description,
                adapterIndex: a,
                outputIndex: o,
                rect,
                rotation: d.rotation,
              },
            });
            keepOutput = true;
            if (!keep) adapters.push({ index: a, ref: adapter, description: desc.description });
            keep = true;
          } finally {
            if (!keepOutput) walk.release(output);
          }
        }
      } finally {
        if (!keep) walk.release(adapter);
      }
    }
  } catch (err) {
    for (const o of found) walk.release(o.ref);
    for (const a of adapters) walk.release(a.ref);
    throw err;
  }
  return { adapters, outputs: orderOutputs(found, (f) => f.info.rect) };
}

/**
 * Display order, shared with the GDI capturer (win32-monitors.ts) so a display keeps its index when
 * the Win32 capturer switches between DXGI and GDI: the primary (the output at the desktop origin)
 * first, then left to right, then top to bottom.
 */
export function orderOutputs<T>(items: readonly T[], rectOf: (item: T) => Rect): T[] {
  const primary = (r: Rect): number => (r.x === 0 && r.y === 0 ? 0 : 1);
  return [...items].sort((a, b) => {
    const ra = rectOf(a);
    const rb = rectOf(b);
    return primary(ra) - primary(rb) || ra.x - rb.x || ra.y - rb.y;
  });
}
