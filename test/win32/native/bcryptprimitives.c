/*
 * Stand-in for Windows' bcryptprimitives.dll, which Wine 8 lacks. Tools built with Rust >= 1.78 or
 * Go >= 1.22 (rolldown, esbuild, lightningcss: vitest's toolchain) import ProcessPrng from it and fail
 * to load without it. Only the Wine test prefix gets this DLL (scripts/win32-setup.sh); it is never
 * shipped. Randomness comes from Wine's BCryptGenRandom with the system-preferred RNG.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size) {
  while (size > 0) {
    ULONG chunk = size > 0x40000000 ? 0x40000000 : (ULONG)size;
    if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) return FALSE;
    data += chunk;
    size -= chunk;
  }
  return TRUE;
}
