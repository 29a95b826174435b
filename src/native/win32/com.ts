/**
 * COM through koffi: an interface pointer points at a vtable of function pointers; a method is called
 * by reading its slot and calling it with koffi's prototype for it, the object as first argument.
 *
 * Every interface pointer porthole obtains is wrapped in a `ComRef`, whose `release()` calls
 * IUnknown::Release once; `liveComRefs()` counts the wrappers not yet released, which is how the tests
 * prove every path (success, failure, re-creation) gives each reference back.
 */
import koffi, { type TypeObject } from 'koffi';
import './library.js';

export const GUID = koffi.struct('GUID', {
  Data1: 'uint32_t',
  Data2: 'uint16_t',
  Data3: 'uint16_t',
  Data4: koffi.array('uint8_t', 8),
});

export interface GuidFields {
  Data1: number;
  Data2: number;
  Data3: number;
  Data4: number[];
}

/** A GUID from its registry form, e.g. `54ec77fa-1377-44e6-8c32-88fd5f44c84c`. */
export function guid(text: string): GuidFields {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a GUID: ${text}`);
  const bytes = Array.from({ length: 8 }, (_, i) => parseInt(hex.slice(16 + i * 2, 18 + i * 2), 16));
  return {
    Data1: parseInt(hex.slice(0, 8), 16),
    Data2: parseInt(hex.slice(8, 12), 16),
    Data3: parseInt(hex.slice(12, 16), 16),
    Data4: bytes,
  };
}

const QueryInterface = koffi.proto(
  'HRESULT __stdcall PortholeQueryInterface(void *self, const GUID *riid, _Out_ void **ppvObject)',
);
const Release = koffi.proto('ULONG __stdcall PortholeRelease(void *self)');

/** IUnknown's methods porthole calls, as [vtable slot, prototype] like the other interfaces' tables. */
export const IUnknown = {
  QueryInterface: [0, QueryInterface],
  Release: [2, Release],
} as const;

let live = 0;
/** Interface references obtained and not yet released (for the leak tests). */
export function liveComRefs(): number {
  return live;
}

export class ComRef {
  private ptr: unknown;

  /** Takes ownership of one reference (the one an out-parameter handed over). */
  constructor(
    ptr: unknown,
    /** The interface's name, for error messages. */
    readonly name: string,
  ) {
    if (ptr == null || koffi.address(ptr) === 0n) throw new Error(`${name}: NULL interface pointer`);
    this.ptr = ptr;
    live += 1;
  }

  get pointer(): unknown {
    if (this.ptr === undefined) throw new Error(`${this.name} used after release`);
    return this.ptr;
  }

  /** Calls vtable slot `index` (0-based, IUnknown's three first) with `proto`. */
  call(index: number, proto: TypeObject, ...args: unknown[]): unknown {
    const self = this.pointer;
    const vtbl: unknown = koffi.decode(self, 'void *');
    const fn: unknown = koffi.decode(vtbl, index * 8, 'void *');
    return koffi.call(fn, proto, self, ...args);
  }

  /** IUnknown::QueryInterface: a new reference to `iid`, or the failing HRESULT. */
  query(iid: GuidFields, name: string): ComRef | number {
    const out: unknown[] = [null];
    const hr = this.call(IUnknown.QueryInterface[0], QueryInterface, iid, out) as number;
    return hr < 0 ? hr : new ComRef(out[0], name);
  }

  release(): void {
    if (this.ptr === undefined) return;
    this.call(IUnknown.Release[0], Release);
    this.ptr = undefined;
    live -= 1;
  }
}

/** Releases every reference given, last first; undefined entries are skipped. */
export function releaseAll(...refs: (ComRef | undefined)[]): void {
  for (const r of refs.reverse()) r?.release();
}
