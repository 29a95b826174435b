/**
 * `DxgiApi` through koffi: the COM calls of dxgi.dll and d3d11.dll behind the DXGI capturer. Every
 * interface pointer is a `ComRef` (com.ts), released exactly once; the Wine tests check
 * `liveComRefs()` after each path.
 *
 * Documented rules this relies on: a device passed to DuplicateOutput "must be created from the adapter
 * to which the output is connected" and from an IDXGIFactory1 (so one device per adapter, created with
 * that adapter); with a non-NULL adapter D3D11CreateDevice requires D3D_DRIVER_TYPE_UNKNOWN; a frame
 * must be released (ReleaseFrame) before the next AcquireNextFrame; a process may duplicate an output
 * only once at a time (E_INVALIDARG otherwise), so a duplication is released before it is re-created.
 */
import koffi, { type TypeObject } from 'koffi';
import { ComRef, releaseAll } from '../../native/win32/com.js';
import {
  D3D11_CPU_ACCESS_READ,
  D3D11_CREATE_DEVICE_BGRA_SUPPORT,
  D3D11_MAP_READ,
  D3D11_SDK_VERSION,
  D3D11_USAGE_STAGING,
  D3D_DRIVER_TYPE_UNKNOWN,
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
  dxgi,
  IDXGIAdapter,
  IDXGIAdapter1,
  IDXGIFactory1,
  IDXGIOutput1,
  IDXGIOutputDuplication,
  IID_IDXGIFactory1,
  IID_IDXGIOutput1,
} from '../../native/win32/dxgi.js';
import { RECT, type RectFields } from '../../native/win32/user32.js';
import { Win32Error } from '../../native/win32/win32-error.js';
import type { Rect } from './capturer.js';
import {
  enumerateOutputs,
  type AdapterDesc,
  type DxgiApi,
  type DxgiChain,
  type DxgiDuplication,
  type DxgiFrame,
  type DxgiOutputInfo,
  type DxgiStaging,
  type Enumeration,
  type FactoryWalk,
  type OutputDesc,
} from './dxgi-api.js';

type Method = readonly [number, TypeObject];

function hr(call: string, value: unknown): void {
  const code = value as number;
  if (code < 0) throw new Win32Error(call, code, { hresult: true });
}

function invoke(ref: ComRef, [slot, proto]: Method, ...args: unknown[]): unknown {
  return ref.call(slot, proto, ...args);
}

function query(ref: ComRef, iid: Parameters<ComRef['query']>[0], name: string): ComRef {
  const r = ref.query(iid, name);
  if (typeof r === 'number') throw new Win32Error(`QueryInterface(${name})`, r, { hresult: true });
  return r;
}

interface OutputDescFields {
  DeviceName: string;
  DesktopCoordinates: RectFields;
  AttachedToDesktop: number;
  Rotation: number;
}

/** The enumeration's COM walk over one IDXGIFactory1. */
function factoryWalk(factory: ComRef): FactoryWalk<ComRef, ComRef> {
  return {
    adapter(index) {
      const out: unknown[] = [null];
      const code = invoke(factory, IDXGIFactory1.EnumAdapters1, index, out) as number;
      if (code === DXGI_ERROR.NOT_FOUND) return undefined;
      hr(`IDXGIFactory1::EnumAdapters1(${index})`, code);
      return new ComRef(out[0], 'IDXGIAdapter1');
    },
    describeAdapter(adapter): AdapterDesc {
      const desc = {} as { Description: string; Flags: number };
      hr('IDXGIAdapter1::GetDesc1', invoke(adapter, IDXGIAdapter1.GetDesc1, desc));
      return { description: desc.Description, flags: desc.Flags };
    },
    output(adapter, index) {
      const out: unknown[] = [null];
      const code = invoke(adapter, IDXGIAdapter.EnumOutputs, index, out) as number;
      if (code === DXGI_ERROR.NOT_FOUND) return undefined;
      hr(`IDXGIAdapter::EnumOutputs(${index})`, code);
      const base = new ComRef(out[0], 'IDXGIOutput');
      try {
        return query(base, IID_IDXGIOutput1, 'IDXGIOutput1');
      } finally {
        base.release();
      }
    },
    describeOutput(output): OutputDesc {
      const desc = {} as OutputDescFields;
      hr('IDXGIOutput::GetDesc', invoke(output, IDXGIOutput1.GetDesc, desc));
      return {
        deviceName: desc.DeviceName,
        attached: desc.AttachedToDesktop !== 0,
        rect: desc.DesktopCoordinates,
        rotation: desc.Rotation,
      };
    },
    release(ref) {
      ref.release();
    },
  };
}

export const koffiDxgiApi: DxgiApi = {
  open(): DxgiChain {
    const out: unknown[] = [null];
    hr('CreateDXGIFactory1', dxgi().CreateDXGIFactory1(IID_IDXGIFactory1, out));
    const factory = new ComRef(out[0], 'IDXGIFactory1');
    try {
      return new KoffiChain(factory, enumerateOutputs(factoryWalk(factory)));
    } catch (err) {
      factory.release();
      throw err;
    }
  },
};

interface Device {
  device: ComRef;
  context: ComRef;
}

class KoffiChain implements DxgiChain {
  readonly outputs: readonly DxgiOutputInfo[];
  private readonly adapters: Map<number, ComRef>;
  private readonly outputRefs: Map<string, ComRef>;
  private readonly devices = new Map<number, Device>();
  private readonly duplications = new Set<KoffiDuplication>();
  private closed = false;

  constructor(
    private readonly factory: ComRef,
    found: Enumeration<ComRef, ComRef>,
  ) {
    this.outputs = found.outputs.map((o) => o.info);
    this.adapters = new Map(found.adapters.map((a) => [a.index, a.ref]));
    this.outputRefs = new Map(found.outputs.map((o) => [o.info.name, o.ref]));
  }

  isCurrent(): boolean {
    return (invoke(this.factory, IDXGIFactory1.IsCurrent) as number) !== 0;
  }

  /** One device per adapter, on that adapter (DuplicateOutput refuses a device of another one). */
  private deviceFor(adapterIndex: number): Device {
    const known = this.devices.get(adapterIndex);
    if (known) return known;
    const adapter = this.adapters.get(adapterIndex);
    if (!adapter) throw new Error(`DXGI: adapter ${adapterIndex} is not in this chain`);
    const device: unknown[] = [null];
    const context: unknown[] = [null];
    hr(
      'D3D11CreateDevice',
      d3d11().D3D11CreateDevice(
        adapter.pointer,
        D3D_DRIVER_TYPE_UNKNOWN,
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
    const made: Device = {
      device: new ComRef(device[0], 'ID3D11Device'),
      context: new ComRef(context[0], 'ID3D11DeviceContext'),
    };
    this.devices.set(adapterIndex, made);
    return made;
  }

  duplicate(output: DxgiOutputInfo): DxgiDuplication {
    if (this.closed) throw new Error('DXGI chain used after close');
    const ref = this.outputRefs.get(output.name);
    if (!ref) throw new Error(`DXGI: output ${output.name} is not in this chain`);
    const device = this.deviceFor(output.adapterIndex);
    const out: unknown[] = [null];
    hr(
      'IDXGIOutput1::DuplicateOutput',
      invoke(ref, IDXGIOutput1.DuplicateOutput, device.device.pointer, out),
    );
    const dup = new KoffiDuplication(new ComRef(out[0], 'IDXGIOutputDuplication'), device, () =>
      this.duplications.delete(dup),
    );
    this.duplications.add(dup);
    return dup;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of [...this.duplications]) d.close();
    for (const d of this.devices.values()) releaseAll(d.device, d.context);
    this.devices.clear();
    releaseAll(...this.outputRefs.values());
    releaseAll(...this.adapters.values());
    this.factory.release();
  }
}

interface FrameInfoFields {
  LastPresentTime: number | bigint;
  TotalMetadataBufferSize: number;
}

class KoffiDuplication implements DxgiDuplication {
  private readonly stagings = new Set<KoffiStaging>();
  private closed = false;

  constructor(
    private readonly dup: ComRef,
    private readonly device: Device,
    private readonly onClose: () => void,
  ) {}

  acquireNextFrame(timeoutMs: number): DxgiFrame | number {
    const info = {} as FrameInfoFields;
    const res: unknown[] = [null];
    const code = invoke(this.dup, IDXGIOutputDuplication.AcquireNextFrame, timeoutMs, info, res) as number;
    if (code < 0) return code;
    let resource: ComRef | undefined;
    let texture: ComRef | undefined;
    try {
      resource = new ComRef(res[0], 'IDXGIResource');
      texture = query(resource, IID_ID3D11Texture2D, 'ID3D11Texture2D');
      const desc = {} as Texture2DDescFields;
      invoke(texture, ID3D11Texture2D.GetDesc, desc);
      return new KoffiFrame(this.dup, this.device, resource, texture, desc, info);
    } catch (err) {
      releaseAll(resource, texture);
      invoke(this.dup, IDXGIOutputDuplication.ReleaseFrame);
      throw err;
    }
  }

  createStaging(frame: DxgiFrame): DxgiStaging {
    const desc = (frame as KoffiFrame).desc;
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
      invoke(this.device.device, ID3D11Device.CreateTexture2D, stagingDesc, null, out),
    );
    const staging = new KoffiStaging(
      new ComRef(out[0], 'ID3D11Texture2D(staging)'),
      this.device.context,
      desc,
      () => this.stagings.delete(staging),
    );
    this.stagings.add(staging);
    return staging;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.stagings]) s.close();
    this.dup.release();
    this.onClose();
  }
}

class KoffiFrame implements DxgiFrame {
  readonly presented: boolean;
  readonly width: number;
  readonly height: number;
  readonly format: number;
  private released = false;

  constructor(
    private readonly dup: ComRef,
    private readonly device: Device,
    private readonly resource: ComRef,
    private readonly texture: ComRef,
    readonly desc: Texture2DDescFields,
    private readonly info: FrameInfoFields,
  ) {
    this.presented = Number(info.LastPresentTime) !== 0;
    this.width = desc.Width;
    this.height = desc.Height;
    this.format = desc.Format;
  }

  /** Move-rect destinations (a moved region's pixels changed too) and dirty rects. */
  changedRects(): Rect[] {
    const metadataBytes = this.info.TotalMetadataBufferSize;
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
      invoke(this.dup, IDXGIOutputDuplication.GetFrameMoveRects, buf.length, buf, used),
    );
    const moveSize = koffi.sizeof(DXGI_OUTDUPL_MOVE_RECT);
    const moves = Math.floor(Math.min(used[0] ?? 0, buf.length) / moveSize);
    for (let i = 0; i < moves; i += 1) {
      const m = koffi.decode(buf, i * moveSize, DXGI_OUTDUPL_MOVE_RECT) as { DestinationRect: RectFields };
      out.push(toRect(m.DestinationRect));
    }
    hr(
      'IDXGIOutputDuplication::GetFrameDirtyRects',
      invoke(this.dup, IDXGIOutputDuplication.GetFrameDirtyRects, buf.length, buf, used),
    );
    const rectSize = koffi.sizeof(RECT);
    const dirty = Math.floor(Math.min(used[0] ?? 0, buf.length) / rectSize);
    for (let i = 0; i < dirty; i += 1) out.push(toRect(koffi.decode(buf, i * rectSize, RECT) as RectFields));
    return out;
  }

  copyTo(staging: DxgiStaging): void {
    const target = (staging as KoffiStaging).texture;
    invoke(this.device.context, ID3D11DeviceContext.CopyResource, target.pointer, this.texture.pointer);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    releaseAll(this.resource, this.texture);
    // DXGI_ERROR_INVALID_CALL (already released) and ACCESS_LOST are both fine here: the next
    // AcquireNextFrame reports a lost duplication.
    invoke(this.dup, IDXGIOutputDuplication.ReleaseFrame);
  }
}

class KoffiStaging implements DxgiStaging {
  readonly width: number;
  readonly height: number;
  readonly format: number;
  private closed = false;

  constructor(
    readonly texture: ComRef,
    private readonly context: ComRef,
    desc: Texture2DDescFields,
    private readonly onClose: () => void,
  ) {
    this.width = desc.Width;
    this.height = desc.Height;
    this.format = desc.Format;
  }

  /** Rows of `width × 4` bytes out of the mapped texture, whose RowPitch may be larger. */
  read(into: Buffer, stride: number): void {
    const mapped = { pData: null as unknown, RowPitch: 0, DepthPitch: 0 };
    hr(
      'ID3D11DeviceContext::Map',
      invoke(this.context, ID3D11DeviceContext.Map, this.texture.pointer, 0, D3D11_MAP_READ, 0, mapped),
    );
    try {
      const pitch = mapped.RowPitch;
      const row = this.width * 4;
      if (pitch < row || stride < row || into.length < stride * this.height)
        throw new Error(`DXGI: mapped pitch ${pitch} / stride ${stride} too small for ${this.width} pixels`);
      const src = Buffer.from(koffi.view(mapped.pData, pitch * this.height));
      for (let y = 0; y < this.height; y += 1) src.copy(into, y * stride, y * pitch, y * pitch + row);
    } finally {
      invoke(this.context, ID3D11DeviceContext.Unmap, this.texture.pointer, 0);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.texture.release();
    this.onClose();
  }
}
