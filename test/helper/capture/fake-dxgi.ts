/**
 * A fake of the D3D11/DXGI calls behind the DXGI capturer (src/helper/capture/dxgi-api.ts): a scripted
 * "system" of outputs whose duplication can be refused, lost, or deliver frames of a given size, with
 * every call recorded and every open object counted, so the capturer's recovery decisions are tested
 * on Linux. The real calls are exercised under Wine (test/win32/desktop-dxgi.test.ts) and on a VM.
 */
import type { Rect } from '../../../src/helper/capture/capturer.js';
import type {
  DxgiApi,
  DxgiChain,
  DxgiDuplication,
  DxgiFrame,
  DxgiOutputInfo,
  DxgiStaging,
} from '../../../src/helper/capture/dxgi-api.js';
import { orderOutputs } from '../../../src/helper/capture/dxgi-api.js';
import { DXGI_ERROR } from '../../../src/native/win32/dxgi.js';
import { Win32Error } from '../../../src/native/win32/win32-error.js';

export const DISPLAY1 = '\\\\.\\DISPLAY1';
export const DISPLAY2 = '\\\\.\\DISPLAY2';

/** One frame AcquireNextFrame hands out. Size defaults to the output's current mode. */
export interface FrameSpec {
  width?: number;
  height?: number;
  /** false: only the pointer moved. Default true. */
  presented?: boolean;
  rects?: Rect[];
  /** The byte every pixel is filled with. Default 0x11. */
  fill?: number;
  /** An HRESULT the copy into the staging texture (Map) fails with. */
  failCopy?: number;
}

export interface FakeOutput {
  name: string;
  rect: Rect;
  adapterIndex?: number;
}

export class FakeDxgi implements DxgiApi {
  outputs: FakeOutput[] = [{ name: DISPLAY1, rect: { x: 0, y: 0, width: 1920, height: 1080 } }];
  /** HRESULTs the next CreateDXGIFactory1 / enumerations fail with, one per call. */
  openFailures: number[] = [];
  /** HRESULTs the next DuplicateOutput calls fail with, one per call; then they succeed. */
  duplicateFailures: number[] = [];
  /** What the next AcquireNextFrame calls return, one per call. */
  acquires: (number | FrameSpec)[] = [];
  /** What AcquireNextFrame returns when `acquires` is empty. */
  idle: number | FrameSpec = DXGI_ERROR.WAIT_TIMEOUT;
  /** Every call, in order: `open 1`, `duplicate \\.\DISPLAY1`, `acquire`, `staging 1920x1080`… */
  readonly calls: string[] = [];
  readonly chains: FakeChain[] = [];
  /** Chains, duplications and staging textures not closed yet. */
  live = 0;

  open(): DxgiChain {
    const fail = this.openFailures.shift();
    if (fail !== undefined) {
      this.calls.push('open failed');
      throw new Win32Error('CreateDXGIFactory1', fail, { hresult: true });
    }
    const chain = new FakeChain(this, this.chains.length + 1);
    this.chains.push(chain);
    this.calls.push(`open ${chain.id}`);
    return chain;
  }

  /** IsCurrent turns false on every chain opened so far (an adapter came or went). */
  adaptersChanged(): void {
    for (const c of this.chains) c.current = false;
  }

  get opened(): number {
    return this.chains.length;
  }
}

class FakeChain implements DxgiChain {
  readonly outputs: DxgiOutputInfo[];
  current = true;
  closed = false;
  private readonly duplications = new Set<FakeDuplication>();

  constructor(
    private readonly fake: FakeDxgi,
    readonly id: number,
  ) {
    fake.live += 1;
    const infos = fake.outputs.map((o, i) => ({
      name: o.name,
      adapter: `Fake GPU ${o.adapterIndex ?? 0}`,
      adapterIndex: o.adapterIndex ?? 0,
      outputIndex: i,
      rect: { ...o.rect },
      rotation: 1,
    }));
    this.outputs = orderOutputs(infos, (o) => o.rect);
  }

  isCurrent(): boolean {
    return this.current;
  }

  duplicate(output: DxgiOutputInfo): DxgiDuplication {
    if (this.closed) throw new Error('fake: duplicate on a closed chain');
    this.fake.calls.push(`duplicate ${output.name}`);
    const fail = this.fake.duplicateFailures.shift();
    if (fail !== undefined) throw new Win32Error('IDXGIOutput1::DuplicateOutput', fail, { hresult: true });
    const dup = new FakeDuplication(this.fake, output, () => this.duplications.delete(dup));
    this.duplications.add(dup);
    return dup;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of [...this.duplications]) d.close();
    this.fake.calls.push(`close ${this.id}`);
    this.fake.live -= 1;
  }
}

class FakeDuplication implements DxgiDuplication {
  private closed = false;
  private held = false;
  private readonly stagings = new Set<FakeStaging>();

  constructor(
    private readonly fake: FakeDxgi,
    private readonly output: DxgiOutputInfo,
    private readonly onClose: () => void,
  ) {
    fake.live += 1;
  }

  acquireNextFrame(): DxgiFrame | number {
    if (this.closed) throw new Error('fake: AcquireNextFrame on a released duplication');
    if (this.held) throw new Error('fake: AcquireNextFrame before ReleaseFrame');
    this.fake.calls.push('acquire');
    const next = this.fake.acquires.length > 0 ? this.fake.acquires.shift()! : this.fake.idle;
    if (typeof next === 'number') return next;
    this.held = true;
    return new FakeFrame(next, this.output, () => (this.held = false));
  }

  createStaging(frame: DxgiFrame): DxgiStaging {
    this.fake.calls.push(`staging ${frame.width}x${frame.height}`);
    const s = new FakeStaging(this.fake, frame, () => this.stagings.delete(s));
    this.stagings.add(s);
    return s;
  }

  close(): void {
    if (this.closed) return;
    if (this.held) throw new Error('fake: duplication released while a frame is held');
    this.closed = true;
    for (const s of [...this.stagings]) s.close();
    this.fake.live -= 1;
    this.onClose();
  }
}

class FakeFrame implements DxgiFrame {
  readonly presented: boolean;
  readonly width: number;
  readonly height: number;
  readonly format = 87; // DXGI_FORMAT_B8G8R8A8_UNORM

  constructor(
    private readonly spec: FrameSpec,
    output: DxgiOutputInfo,
    private readonly onRelease: () => void,
  ) {
    this.presented = spec.presented ?? true;
    this.width = spec.width ?? output.rect.width;
    this.height = spec.height ?? output.rect.height;
  }

  changedRects(): Rect[] {
    return this.spec.rects ?? [];
  }

  copyTo(staging: DxgiStaging): void {
    if (this.spec.failCopy !== undefined)
      throw new Win32Error('ID3D11DeviceContext::Map', this.spec.failCopy, { hresult: true });
    if (staging.width !== this.width || staging.height !== this.height)
      throw new Error(
        `fake: CopyResource ${this.width}x${this.height} into ${staging.width}x${staging.height}`,
      );
    (staging as FakeStaging).fill = this.spec.fill ?? 0x11;
  }

  release(): void {
    this.onRelease();
  }
}

class FakeStaging implements DxgiStaging {
  readonly width: number;
  readonly height: number;
  readonly format: number;
  fill = 0;
  private closed = false;

  constructor(
    private readonly fake: FakeDxgi,
    frame: DxgiFrame,
    private readonly onClose: () => void,
  ) {
    this.width = frame.width;
    this.height = frame.height;
    this.format = frame.format;
    fake.live += 1;
  }

  read(into: Buffer, stride: number): void {
    if (into.length < stride * this.height || stride < this.width * 4)
      throw new Error(`fake: ${into.length}-byte buffer for ${this.width}x${this.height}`);
    for (let y = 0; y < this.height; y += 1) into.fill(this.fill, y * stride, y * stride + this.width * 4);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fake.live -= 1;
    this.onClose();
  }
}

/** A follower that records its syncs into the fake's call log and can be "switched" by the test. */
export class FakeFollower {
  name = 'Default';
  syncs = 0;
  closed = false;
  constructor(private readonly calls?: string[]) {}
  sync(): boolean {
    this.syncs += 1;
    this.calls?.push('sync');
    return true;
  }
  close(): void {
    this.closed = true;
  }
}
