/**
 * The DXGI Desktop Duplication capturer: the GPU tells which frames and rectangles changed, and the
 * desktop image is copied into a CPU-readable staging texture only when something did.
 *
 *   D3D11CreateDevice → IDXGIDevice → IDXGIAdapter → EnumOutputs → IDXGIOutput1::DuplicateOutput;
 *   per grab: AcquireNextFrame(0 ms) → dirty/move rects → CopyResource(staging) → Map → rows → Unmap
 *   → ReleaseFrame.
 *
 * The constructor duplicates the first output once as a probe, so `createCapturer` can fall back to
 * GDI when duplication is refused (Wine: E_NOTIMPL; a remote session or a missing driver:
 * DXGI_ERROR_UNSUPPORTED / NOT_CURRENTLY_AVAILABLE). Everything after DuplicateOutput runs on a real
 * Windows only (design/WINDOWS.md). Rotated outputs are captured as the GPU stores them (not rotated).
 */
import koffi, { type TypeObject } from 'koffi';
import { ComRef, releaseAll } from '../../native/win32/com.js';
import {
  D3D11_CPU_ACCESS_READ,
  D3D11_CREATE_DEVICE_BGRA_SUPPORT,
  D3D11_MAP_READ,
  D3D11_SDK_VERSION,
  D3D11_USAGE_STAGING,
  D3D_DRIVER_TYPE_HARDWARE,
  d3d11,
  ID3D11Device,
  ID3D11DeviceContext,
  ID3D11Texture2D,
  IID_ID3D11Texture2D,
  type Texture2DDescFields,
} from '../../native/win32/d3d11.js';
import {
  DXGI_ERROR,
  DXGI_OUTDUPL_MOVE_RECT,
  IDXGIAdapter,
  IDXGIDevice,
  IDXGIOutput1,
  IDXGIOutputDuplication,
  IID_IDXGIDevice,
  IID_IDXGIOutput1,
} from '../../native/win32/dxgi.js';
import type { RectFields } from '../../native/win32/user32.js';
import { RECT } from '../../native/win32/user32.js';
import { Win32Error } from '../../native/win32/win32-error.js';
import { InputDesktopFollower } from '../win32-input-desktop/input-desktop-follower.js';
import {
  CaptureError,
  type CapturedFrame,
  type Capturer,
  type CursorSource,
  type DisplayInfo,
  type FrameSource,
  type Rect,
} from './capturer.js';
import { monotonicUs } from './clock.js';
import { Win32CursorSource } from './win32-cursor.js';
import { type Logger } from '../../log/logger.js';

type Method = readonly [number, TypeObject];

function hr(call: string, value: unknown): void {
  const code = value as number;
  if (code < 0) throw new Win32Error(call, code, { hresult: true });
}

function invoke(ref: ComRef, [slot, proto]: Method, ...args: unknown[]): unknown {
  return ref.call(slot, proto, ...args);
}

interface Output {
  output: ComRef;
  display: DisplayInfo;
}

export class Win32DxgiCapturer implements Capturer {
  readonly kind = 'win32' as const;
  readonly method = 'dxgi' as const;
  private readonly follower: InputDesktopFollower;
  private device: ComRef | undefined;
  private context: ComRef | undefined;
  private outputs: Output[] = [];

  constructor(private readonly log?: Pick<Logger, 'info' | 'warn'>) {
    this.follower = new InputDesktopFollower(log);
    this.follower.sync();
    try {
      this.open();
      const first = this.outputs[0];
      if (!first)
        throw new CaptureError('unsupported', 'DXGI: the adapter has no output attached to the desktop');
      duplicate(first.output, this.device!).release();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private open(): void {
    const device: unknown[] = [null];
    const context: unknown[] = [null];
    hr(
      'D3D11CreateDevice',
      d3d11().D3D11CreateDevice(
        null,
        D3D_DRIVER_TYPE_HARDWARE,
        null,
        D3D11_CREATE_DEVICE_BGRA_SUPPORT,
        null,
        0,
        D3D11_SDK_VERSION,
        device,
        [0],
        context,
      ),
    );
    this.device = new ComRef(device[0], 'ID3D11Device');
    this.context = new ComRef(context[0], 'ID3D11DeviceContext');
    const dxgiDevice = this.device.query(IID_IDXGIDevice, 'IDXGIDevice');
    if (typeof dxgiDevice === 'number')
      throw new Win32Error('QueryInterface(IDXGIDevice)', dxgiDevice, { hresult: true });
    let adapter: ComRef | undefined;
    try {
      const out: unknown[] = [null];
      hr('IDXGIDevice::GetAdapter', invoke(dxgiDevice, IDXGIDevice.GetAdapter, out));
      adapter = new ComRef(out[0], 'IDXGIAdapter');
      this.outputs = enumerateOutputs(adapter);
    } finally {
      releaseAll(dxgiDevice, adapter);
    }
  }

  displays(): DisplayInfo[] {
    return this.outputs.map((o) => o.display);
  }

  openFrameSource(displayIndex: number): FrameSource {
    const o = this.outputs[displayIndex];
    if (!o || !this.device || !this.context)
      throw new CaptureError('no_such_display', `no display ${displayIndex} (have ${this.outputs.length})`);
    return new DxgiFrameSource(o, this.device, this.context, this.follower, this.log);
  }

  openCursorSource(): CursorSource {
    return new Win32CursorSource(this.follower);
  }

  close(): void {
    releaseAll(this.device, this.context, ...this.outputs.map((o) => o.output));
    this.device = undefined;
    this.context = undefined;
    this.outputs = [];
    this.follower.close();
  }
}

interface OutputDescFields {
  DeviceName: string;
  DesktopCoordinates: RectFields;
  AttachedToDesktop: number;
  Rotation: number;
  Monitor: unknown;
}

/** The adapter's outputs attached to the desktop, as IDXGIOutput1, the primary (at 0,0) first. */
function enumerateOutputs(adapter: ComRef): Output[] {
  const found: { output: ComRef; desc: OutputDescFields }[] = [];
  try {
    for (let i = 0; ; i += 1) {
      const out: unknown[] = [null];
      const code = invoke(adapter, IDXGIAdapter.EnumOutputs, i, out) as number;
      if (code === DXGI_ERROR.NOT_FOUND) break;
      hr(`IDXGIAdapter::EnumOutputs(${i})`, code);
      const base = new ComRef(out[0], 'IDXGIOutput');
      try {
        const desc = {} as OutputDescFields;
        hr('IDXGIOutput::GetDesc', invoke(base, IDXGIOutput1.GetDesc, desc));
        if (!desc.AttachedToDesktop) continue;
        const output1 = base.query(IID_IDXGIOutput1, 'IDXGIOutput1');
        if (typeof output1 === 'number')
          throw new Win32Error('QueryInterface(IDXGIOutput1)', output1, { hresult: true });
        found.push({ output: output1, desc });
      } finally {
        base.release();
      }
    }
  } catch (err) {
    releaseAll(...found.map((f) => f.output));
    throw err;
  }
  const primaryFirst = (d: OutputDescFields): number =>
    d.DesktopCoordinates.left === 0 && d.DesktopCoordinates.top === 0 ? 0 : 1;
  found.sort((a, b) => primaryFirst(a.desc) - primaryFirst(b.desc));
  return found.map(({ output, desc }, index) => {
    const r = desc.DesktopCoordinates;
    return {
      output,
      display: {
        index,
        name: desc.DeviceName,
        x: r.left,
        y: r.top,
        width: r.right - r.left,
        height: r.bottom - r.top,
        primary: r.left === 0 && r.top === 0,
      },
    };
  });
}

function duplicate(output: ComRef, device: ComRef): ComRef {
  const out: unknown[] = [null];
  hr('IDXGIOutput1::DuplicateOutput', invoke(output, IDXGIOutput1.DuplicateOutput, device.pointer, out));
  return new ComRef(out[0], 'IDXGIOutputDuplication');
}

interface FrameInfoFields {
  LastPresentTime: number | bigint;
  TotalMetadataBufferSize: number;
}

class DxgiFrameSource implements FrameSource {
  readonly display: DisplayInfo;
  private duplication: ComRef | undefined;
  private staging: ComRef | undefined;
  private readonly frame: Buffer;
  private readonly stride: number;
  private sequence = 0;
  /** True until a full image has been copied (at start and after the duplication was re-created). */
  private needFull = true;
  private closed = false;

  constructor(
    private readonly output: Output,
    private readonly device: ComRef,
    private readonly context: ComRef,
    private readonly follower: InputDesktopFollower,
    private readonly log?: Pick<Logger, 'info' | 'warn'>,
  ) {
    this.display = output.display;
    this.stride = this.display.width * 4;
    this.frame = Buffer.alloc(this.stride * this.display.height);
    this.duplication = duplicate(output.output, device);
  }

  grab(): CapturedFrame {
    if (this.closed) throw new CaptureError('closed', 'grab on a closed frame source');
    this.follower.sync();
    this.sequence += 1;
    const dirty = this.acquire();
    return {
      data: this.frame,
      width: this.display.width,
      height: this.display.height,
      stride: this.stride,
      format: 'BGRX',
      timestampUs: monotonicUs(),
      changed: dirty.length > 0,
      dirty,
      sequence: this.sequence,
    };
  }

  /** Copies a new desktop image if there is one; returns the changed rectangles. */
  private acquire(): Rect[] {
    if (!this.duplication) {
      // Lost before (desktop switch, mode change, full-screen app): re-create; still refused → no frame.
      try {
        this.duplication = duplicate(this.output.output, this.device);
      } catch (err) {
        if (err instanceof Win32Error && isTransient(err.win32Code | 0)) return [];
        throw err;
      }
    }
    const dup = this.duplication;
    const info = {} as FrameInfoFields;
    const res: unknown[] = [null];
    // The first frame after DuplicateOutput is the whole desktop; give it a moment to arrive.
    const code = invoke(
      dup,
      IDXGIOutputDuplication.AcquireNextFrame,
      this.needFull ? 100 : 0,
      info,
      res,
    ) as number;
    if (code === DXGI_ERROR.WAIT_TIMEOUT) return [];
    if (isTransient(code)) {
      this.log?.info(
        { display: this.display.index, hresult: hex(code) },
        'desktop duplication lost; re-creating',
      );
      dup.release();
      this.duplication = undefined;
      this.needFull = true;
      return [];
    }
    hr('IDXGIOutputDuplication::AcquireNextFrame', code);
    const resource = new ComRef(res[0], 'IDXGIResource');
    let texture: ComRef | undefined;
    try {
      // Only the pointer moved: the image is unchanged.
      if (Number(info.LastPresentTime) === 0 && !this.needFull) return [];
      const rects = this.needFull ? [this.whole()] : this.changedRects(dup, info.TotalMetadataBufferSize);
      const t = resource.query(IID_ID3D11Texture2D, 'ID3D11Texture2D');
      if (typeof t === 'number')
        throw new Win32Error('QueryInterface(ID3D11Texture2D)', t, { hresult: true });
      texture = t;
      this.copyOut(texture);
      this.needFull = false;
      return rects;
    } finally {
      releaseAll(resource, texture);
      invoke(dup, IDXGIOutputDuplication.ReleaseFrame);
    }
  }

  private whole(): Rect {
    return { x: 0, y: 0, width: this.display.width, height: this.display.height };
  }

  /** Dirty rectangles plus the destinations of moved ones (a moved region's pixels changed too). */
  private changedRects(dup: ComRef, metadataBytes: number): Rect[] {
    if (metadataBytes === 0) return [];
    const buf = Buffer.alloc(metadataBytes);
    const used = [0];
    const out: Rect[] = [];
    const toRect = (r: RectFields): Rect => ({
      x: r.left,
      y: r.top,
      width: r.right - r.left,
      height: r.bottom - r.top,
    });
    hr(
      'IDXGIOutputDuplication::GetFrameMoveRects',
      invoke(dup, IDXGIOutputDuplication.GetFrameMoveRects, buf.length, buf, used),
    );
    const moveSize = koffi.sizeof(DXGI_OUTDUPL_MOVE_RECT);
    for (let i = 0; i < (used[0] ?? 0) / moveSize; i += 1) {
      const m = koffi.decode(buf, i * moveSize, DXGI_OUTDUPL_MOVE_RECT) as { DestinationRect: RectFields };
      out.push(toRect(m.DestinationRect));
    }
    hr(
      'IDXGIOutputDuplication::GetFrameDirtyRects',
      invoke(dup, IDXGIOutputDuplication.GetFrameDirtyRects, buf.length, buf, used),
    );
    const rectSize = koffi.sizeof(RECT);
    for (let i = 0; i < (used[0] ?? 0) / rectSize; i += 1)
      out.push(toRect(koffi.decode(buf, i * rectSize, RECT) as RectFields));
    return out.length > 0 ? out : [this.whole()];
  }

  /** GPU texture → staging texture → this.frame, row by row (the mapped pitch may exceed width × 4). */
  private copyOut(texture: ComRef): void {
    if (!this.staging) {
      const desc = {} as Texture2DDescFields;
      invoke(texture, ID3D11Texture2D.GetDesc, desc);
      const stagingDesc: Texture2DDescFields = {
        ...desc,
        MipLevels: 1,
        ArraySize: 1,
        SampleDesc: { Count: 1, Quality: 0 },
        Usage: D3D11_USAGE_STAGING,
        BindFlags: 0,
        CPUAccessFlags: D3D11_CPU_ACCESS_READ,
        MiscFlags: 0,
      };
      const out: unknown[] = [null];
      hr(
        'ID3D11Device::CreateTexture2D(staging)',
        invoke(this.device, ID3D11Device.CreateTexture2D, stagingDesc, null, out),
      );
      this.staging = new ComRef(out[0], 'ID3D11Texture2D(staging)');
    }
    const staging = this.staging;
    invoke(this.context, ID3D11DeviceContext.CopyResource, staging.pointer, texture.pointer);
    const mapped = { pData: null as unknown, RowPitch: 0, DepthPitch: 0 };
    hr(
      'ID3D11DeviceContext::Map',
      invoke(this.context, ID3D11DeviceContext.Map, staging.pointer, 0, D3D11_MAP_READ, 0, mapped),
    );
    try {
      const pitch = mapped.RowPitch;
      const src = Buffer.from(koffi.view(mapped.pData, pitch * this.display.height));
      for (let row = 0; row < this.display.height; row += 1)
        src.copy(this.frame, row * this.stride, row * pitch, row * pitch + this.stride);
    } finally {
      invoke(this.context, ID3D11DeviceContext.Unmap, staging.pointer, 0);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    releaseAll(this.duplication, this.staging);
    this.duplication = undefined;
    this.staging = undefined;
  }
}

/** Errors after which the duplication must be re-created (desktop switch, mode change, UAC, lock). */
function isTransient(code: number): boolean {
  return (
    code === DXGI_ERROR.ACCESS_LOST ||
    code === DXGI_ERROR.NOT_CURRENTLY_AVAILABLE ||
    code === DXGI_ERROR.SESSION_DISCONNECTED ||
    code === (0x80070005 | 0) /* E_ACCESSDENIED: the secure desktop */
  );
}

function hex(code: number): string {
  return `0x${(code >>> 0).toString(16).toUpperCase()}`;
}
