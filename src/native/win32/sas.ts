/**
 * sas.dll: SendSAS, the software Ctrl+Alt+Del. It returns nothing, and Windows ignores it without a
 * word unless the caller is a service (or a signed UIAccess program) and the SoftwareSASGeneration
 * policy allows that kind of caller (SendSAS remarks), so the caller checks what it can first
 * (service/windows/win32-secure-attention.ts). Wine 8 ships a sas.dll too.
 */
import koffi from 'koffi';

let sendSas: ((asUser: number) => void) | undefined;

/**
 * SendSAS(FALSE): "FALSE" because the caller is a service, not the current user. A service that
 * impersonates a token simulates the SAS in that token's session. Throws when sas.dll is missing.
 */
export function sendSasFunction(): () => void {
  sendSas ??= koffi.load('sas.dll').func('void __stdcall SendSAS(BOOL AsUser)') as (asUser: number) => void;
  const fn = sendSas;
  return () => fn(0);
}
