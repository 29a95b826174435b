<#
.SYNOPSIS
  Checks on a real Windows 10/11 machine what Wine cannot show: the porthole service installed,
  running as LocalSystem in session 0, a helper spawned into the console user's session, the
  helper pipe's DACL refusing a non-admin user, the Event Log entries, then stop and uninstall;
  then, in the console session, DXGI capture across a resolution change and on every adapter, and a
  clipboard write pasted into Notepad; injected input moving the cursor on Default; the failure
  actions restarting a killed service; the helper's pipe client refusing impersonation; the
  %ProgramData%\porthole DACL and a standard user kept out of it; `porthole service enroll` writing a
  device token only SYSTEM and Administrators can read (issue 16); and a real desktop through the
  service: frames, clicks on Default and on the locked workstation's Winlogon desktop, Ctrl+Alt+Del
  sent by the service (issue 14); each Media Foundation H.264 encoder MFT encoding 300 frames, checked
  by Windows' own decoder (issue 15). Sign in a second user first (Switch user or RDP) to check that every
  session gets a helper. The last step locks the workstation.

.DESCRIPTION
  Run from an elevated PowerShell (5.1 or 7) in a porthole checkout where `npm ci` has run:
      powershell -ExecutionPolicy Bypass -File scripts\windows-vm-check.ps1
  Someone must be logged on at the console (the helper goes into that session). Every step prints
  PASS, FAIL or INCONCLUSIVE; the exit code is the number of FAILs. The service is installed under
  -ServiceName (default porthole-vmcheck, so an installed "porthole" is left alone) and removed at
  the end, and so is the temporary local user of the DACL check.

.PARAMETER Synthetic
  Give the helper `--capture synthetic` (checks the service machinery without the desktop capturer).
#>
param(
  [string]$ServiceName = 'porthole-vmcheck',
  [string]$Node = (Get-Command node.exe -ErrorAction Stop).Source,
  [switch]$Synthetic,
  [switch]$SkipBuild,
  [int]$TimeoutSeconds = 60,
  # Step 12d: two MSIs from `npm run package:win` (the second built with `-- --version <higher>`).
  [string]$MsiOld = '',
  [string]$MsiNew = ''
)
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
$porthole = Join-Path $root 'bin\porthole.js'
$script:failures = 0
$work = Join-Path $env:TEMP ("porthole-vmcheck-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $work | Out-Null
$logDir = Join-Path $work 'logs'
$serviceLog = Join-Path $logDir 'service.log'

function Report([string]$step, [string]$result, [string]$detail = '') {
  $color = @{ PASS = 'Green'; FAIL = 'Red'; INCONCLUSIVE = 'Yellow' }[$result]
  Write-Host ("{0,-13} {1}{2}" -f $result, $step, $(if ($detail) { " - $detail" } else { '' })) -ForegroundColor $color
  if ($result -eq 'FAIL') { $script:failures++ }
}
function Check([string]$step, [scriptblock]$test) {
  try {
    $detail = & $test
    Report $step 'PASS' "$detail"
  } catch {
    Report $step 'FAIL' $_.Exception.Message
  }
}
function Porthole([string[]]$arguments) {
  $out = & $Node $porthole @arguments 2>&1 | Out-String
  if ($LASTEXITCODE -ne 0) { throw "porthole $($arguments -join ' ') exited $LASTEXITCODE`: $out" }
  return $out.Trim()
}
function WaitUntil([string]$what, [scriptblock]$cond) {
  $end = (Get-Date).AddSeconds($TimeoutSeconds)
  while (-not (& $cond)) {
    if ((Get-Date) -gt $end) { throw "timed out after $TimeoutSeconds s waiting for $what" }
    Start-Sleep -Milliseconds 500
  }
}
function LogLines { if (Test-Path $serviceLog) { Get-Content $serviceLog | ForEach-Object { $_ | ConvertFrom-Json } } }

$admin = ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole(
  [Security.Principal.WindowsBuiltInRole]::Administrator)
if (-not $admin) { Write-Host 'Run this script from an elevated PowerShell.' -ForegroundColor Red; exit 1 }
$consoleSession = (Get-Process -Id $PID).SessionId
Write-Host "porthole VM check: node $Node, checkout $root, console session $consoleSession, work dir $work"

# 1. Build.
Check 'build (npm run build) and porthole --version' {
  if (-not $SkipBuild) {
    Push-Location $root
    try { npm run build 2>&1 | Out-File (Join-Path $work 'build.log'); if ($LASTEXITCODE -ne 0) { throw 'npm run build failed (see build.log)' } }
    finally { Pop-Location }
  }
  Porthole @('--version')
}

# 2. Install, twice: created then updated.
$config = Join-Path $work 'porthole.json'
$helperArgs = @('--log-level', 'debug')
if ($Synthetic) { $helperArgs = @('--capture', 'synthetic') + $helperArgs }
@{ logLevel = 'debug'; helper = @{ args = $helperArgs } } | ConvertTo-Json -Depth 4 | Set-Content -Encoding ascii $config
# Install first secures %ProgramData%\porthole (issue 14, item 13), on a line of its own.
function LastLine([string]$text) { return ($text -split "`r?`n")[-1] }
Check 'service install (created)' {
  $o = Porthole @('service', 'install', '--name', $ServiceName, '--config', $config, '--log-dir', $logDir)
  if ((LastLine $o) -ne "${ServiceName}: created") { throw "got '$o'" }
  if ($o -notmatch 'data folder .+ \(SYSTEM and Administrators only\)') { throw "no data folder line: '$o'" }
  $o -replace "`r?`n", ' / '
}
Check 'service install again (updated, idempotent)' {
  $o = Porthole @('service', 'install', '--name', $ServiceName, '--config', $config, '--log-dir', $logDir)
  if ((LastLine $o) -ne "${ServiceName}: updated") { throw "got '$o'" }
  $o -replace "`r?`n", ' / '
}
Check 'status: stopped, auto start, LocalSystem, quoted ImagePath, restart after 5 s x3, also after a reported failure' {
  $s = Porthole @('service', 'status', '--name', $ServiceName, '--json') | ConvertFrom-Json
  if ($s.state -ne 'stopped') { throw "state $($s.state)" }
  if ($s.startType -ne 'auto') { throw "start type $($s.startType)" }
  if ($s.account -ne 'LocalSystem') { throw "account $($s.account)" }
  if (-not $s.binaryPath.StartsWith('"' + $Node + '" "' + $porthole + '"')) { throw "ImagePath $($s.binaryPath)" }
  if (($s.restartDelaysMs -join ',') -ne '5000,5000,5000') { throw "failure actions $($s.restartDelaysMs -join ',')" }
  # SERVICE_FAILURE_ACTIONS_FLAG (issue 14, item 3), read back through QueryServiceConfig2W.
  if ($s.failureActionsOnNonCrashFailures -ne $true) { throw "failureActionsOnNonCrashFailures $($s.failureActionsOnNonCrashFailures)" }
  $s.binaryPath
}

# 3. Start and reach Running.
$svcPid = 0
Check 'start (StartServiceW) and Running' {
  Porthole @('service', 'start', '--name', $ServiceName) | Out-Null
  $script:svcPid = (Get-CimInstance Win32_Service -Filter "Name='$ServiceName'").ProcessId
  if ((Get-Service $ServiceName).Status -ne 'Running') { throw "status $((Get-Service $ServiceName).Status)" }
  "pid $script:svcPid"
}
Check 'the service process runs as SYSTEM in session 0' {
  $p = Get-CimInstance Win32_Process -Filter "ProcessId=$svcPid"
  $owner = Invoke-CimMethod -InputObject $p -MethodName GetOwner
  if ($p.SessionId -ne 0) { throw "session $($p.SessionId)" }
  if ($owner.User -ne 'SYSTEM') { throw "owner $($owner.Domain)\$($owner.User)" }
  "session 0, $($owner.Domain)\$($owner.User)"
}
Check 'service.log: broker started, helper ready for the console session' {
  WaitUntil 'helper ready in service.log' { LogLines | Where-Object { $_.msg -eq 'helper ready' -and $_.sessionId -eq $consoleSession } }
  if (-not (LogLines | Where-Object { $_.msg -eq 'broker started' })) { throw 'no "broker started"' }
  ($serviceLog)
}

# 4. The helper: a node.exe child of the service, in the console session, as SYSTEM (tokenMode system).
$helper = $null
Check "helper process spawned into session $consoleSession" {
  $script:helper = Get-CimInstance Win32_Process -Filter "ParentProcessId=$svcPid" | Where-Object { $_.Name -eq 'node.exe' } | Select-Object -First 1
  if (-not $script:helper) { throw 'no node.exe child of the service' }
  if ($script:helper.SessionId -ne $consoleSession) { throw "helper in session $($script:helper.SessionId)" }
  $owner = Invoke-CimMethod -InputObject $script:helper -MethodName GetOwner
  if ($owner.User -ne 'SYSTEM') { throw "helper owner $($owner.Domain)\$($owner.User)" }
  "pid $($script:helper.ProcessId), session $($script:helper.SessionId), $($owner.Domain)\$($owner.User)"
}
Check 'the helper is in a kill-on-close job (IsProcessInJob)' {
  Add-Type -Namespace PortholeCheck -Name Native -MemberDefinition @'
[DllImport("kernel32.dll", SetLastError = true)] public static extern IntPtr OpenProcess(uint access, bool inherit, uint pid);
[DllImport("kernel32.dll", SetLastError = true)] public static extern bool IsProcessInJob(IntPtr process, IntPtr job, out bool result);
[DllImport("kernel32.dll")] public static extern bool CloseHandle(IntPtr h);
'@ -ErrorAction SilentlyContinue
  $h = [PortholeCheck.Native]::OpenProcess(0x1000, $false, [uint32]$helper.ProcessId)
  if ($h -eq [IntPtr]::Zero) { throw 'OpenProcess failed' }
  try { $in = $false; [void][PortholeCheck.Native]::IsProcessInJob($h, [IntPtr]::Zero, [ref]$in); if (-not $in) { throw 'not in a job' } }
  finally { [void][PortholeCheck.Native]::CloseHandle($h) }
  'in a job'
}

# 4b. One helper per signed-in session (issue 14, item 2). A job takes the session of its first process
#     and refuses processes of any other: with one job for every helper, the second session's helper was
#     refused by AssignProcessToJobObject and killed. Each helper now has a job of its own.
$userSessions = @(Get-CimInstance Win32_Process -Filter "Name='explorer.exe'" | ForEach-Object { [int]$_.SessionId } | Sort-Object -Unique)
if ($userSessions.Count -lt 2) {
  Report 'every signed-in session gets a helper of its own, each in a job' 'INCONCLUSIVE' `
    "one signed-in session ($($userSessions -join ', ')): sign in a second user (Switch user, or an RDP session) before running this script"
} else {
  Check 'every signed-in session gets a helper of its own, each in a job' {
    foreach ($sid in $userSessions) {
      WaitUntil "helper ready in session $sid" { LogLines | Where-Object { $_.msg -eq 'helper ready' -and $_.sessionId -eq $sid } }
    }
    $failed = @(LogLines | Where-Object { $_.msg -eq 'helper start failed' })
    if ($failed.Count -gt 0) { throw "helper start failed: $($failed | ConvertTo-Json -Compress)" }
    $helpers = @(Get-CimInstance Win32_Process -Filter "ParentProcessId=$svcPid" | Where-Object { $_.Name -eq 'node.exe' })
    $found = foreach ($sid in $userSessions) {
      $h = $helpers | Where-Object { $_.SessionId -eq $sid } | Select-Object -First 1
      if (-not $h) { throw "no helper in session $sid" }
      $ph = [PortholeCheck.Native]::OpenProcess(0x1000, $false, [uint32]$h.ProcessId)
      try { $in = $false; [void][PortholeCheck.Native]::IsProcessInJob($ph, [IntPtr]::Zero, [ref]$in); if (-not $in) { throw "helper $($h.ProcessId) is in no job" } }
      finally { [void][PortholeCheck.Native]::CloseHandle($ph) }
      "session $sid -> pid $($h.ProcessId)"
    }
    $found -join '; '
  }
}

# 5. The pipe DACL: a standard user must get "access denied". The helper's pipe has one instance and
#    the helper holds it, so a refused open can also be "busy" (231): that result is INCONCLUSIVE.
$pipeLine = LogLines | Where-Object { $_.msg -eq 'helper spawned' -and $_.pipe } | Select-Object -Last 1
if ($pipeLine) {
  $pipeName = $pipeLine.pipe -replace '^\\\\\.\\pipe\\', ''
  $user = 'phvmcheck'
  $password = 'Pc!' + [guid]::NewGuid().ToString('N').Substring(0, 16)
  $result = Join-Path $env:PUBLIC "porthole-pipe-check-$([guid]::NewGuid().ToString('N').Substring(0, 6)).txt"
  try {
    New-LocalUser -Name $user -Password (ConvertTo-SecureString $password -AsPlainText -Force) -AccountNeverExpires | Out-Null
    $cred = New-Object PSCredential ".\$user", (ConvertTo-SecureString $password -AsPlainText -Force)
    $probe = @"
try { `$c = New-Object System.IO.Pipes.NamedPipeClientStream('.', '$pipeName', [System.IO.Pipes.PipeDirection]::InOut); `$c.Connect(3000); 'OPENED' }
catch [System.UnauthorizedAccessException] { 'DENIED' } catch [System.TimeoutException] { 'BUSY' } catch { 'ERROR ' + `$_.Exception.Message }
"@ + " | Set-Content -Path '$result'"
    Start-Process powershell.exe -Credential $cred -WorkingDirectory $env:PUBLIC -WindowStyle Hidden -Wait `
      -ArgumentList @('-NoProfile', '-NonInteractive', '-Command', $probe)
    $r = (Get-Content $result -ErrorAction Stop | Out-String).Trim()
    switch -Wildcard ($r) {
      'DENIED' { Report 'pipe DACL refuses a standard user' 'PASS' "\\.\pipe\$pipeName" }
      'BUSY' { Report 'pipe DACL refuses a standard user' 'INCONCLUSIVE' 'the pipe was busy (held by the helper); check the DACL by hand' }
      default { Report 'pipe DACL refuses a standard user' 'FAIL' $r }
    }
  } catch {
    Report 'pipe DACL refuses a standard user' 'FAIL' $_.Exception.Message
  } finally {
    Remove-LocalUser -Name $user -ErrorAction SilentlyContinue
    Remove-Item $result -ErrorAction SilentlyContinue
  }
} else {
  Report 'pipe DACL refuses a standard user' 'FAIL' 'no "helper spawned" line with a pipe name in service.log'
}

# 6. The Event Log (source = the service name; no message file is registered, so the viewer shows the
#    text as an insertion string).
Check 'Event Log: a "started" event (id 1) from the service' {
  $e = Get-WinEvent -FilterHashtable @{ LogName = 'Application'; ProviderName = $ServiceName; Id = 1 } -MaxEvents 1
  $e.TimeCreated.ToString('s')
}

# 7. Stop, uninstall.
Check 'stop: Stopped, exit codes 0, the process gone' {
  Porthole @('service', 'stop', '--name', $ServiceName) | Out-Null
  $s = Porthole @('service', 'status', '--name', $ServiceName, '--json') | ConvertFrom-Json
  if ($s.state -ne 'stopped' -or $s.win32ExitCode -ne 0 -or $s.serviceExitCode -ne 0) { throw ($s | ConvertTo-Json -Compress) }
  WaitUntil 'the service process to exit' { -not (Get-Process -Id $svcPid -ErrorAction SilentlyContinue) }
  'stopped'
}
Check 'the helper ended with the service (job closed)' {
  WaitUntil 'the helper to exit' { -not (Get-Process -Id $helper.ProcessId -ErrorAction SilentlyContinue) }
  'gone'
}
Check 'Event Log: a "stopped" event (id 2)' {
  (Get-WinEvent -FilterHashtable @{ LogName = 'Application'; ProviderName = $ServiceName; Id = 2 } -MaxEvents 1).TimeCreated.ToString('s')
}
Check 'uninstall, then status says not installed; uninstall again is fine' {
  $o = Porthole @('service', 'uninstall', '--name', $ServiceName)
  if ($o -ne "${ServiceName}: removed") { throw "got '$o'" }
  $s = Porthole @('service', 'status', '--name', $ServiceName)
  if ($s -ne "${ServiceName}: not installed") { throw "status '$s'" }
  $o = Porthole @('service', 'uninstall', '--name', $ServiceName)
  if ($o -ne "${ServiceName}: not installed") { throw "second uninstall '$o'" }
  'removed'
}

# 8. Desktop capture and the clipboard in the console session (issue 14, items 4, 5, 7): the helper's
#    own modules from dist/, run by node.exe in this (the console user's, elevated) session. What Wine
#    cannot show: DXGI duplication surviving a mode change, monitors of every adapter, and a clipboard
#    write that other programs can paste after the writer's owner window and process are gone.
$desktopCheck = Join-Path $work 'desktop-check.mjs'
$distUrl = ([Uri](Join-Path $root 'dist\src')).AbsoluteUri
$desktopCheckSource = @"
import { createCapturer } from '$distUrl/helper/capture/index.js';
import { koffiDxgiApi } from '$distUrl/helper/capture/win32-dxgi-api.js';
import { createClipboard } from '$distUrl/helper/input/index.js';
const [mode, arg] = process.argv.slice(2);
const lines = [];
const log = {
  debug: () => {},
  info: (o, msg) => lines.push({ level: 'info', ...o, msg }),
  warn: (o, msg) => lines.push({ level: 'warn', ...o, msg }),
};
const out = { mode, lines };
if (mode === 'list') {
  const chain = koffiDxgiApi.open();
  out.outputs = chain.outputs;
  chain.close();
  const c = await createCapturer({ kind: 'win32', log });
  out.method = c.method;
  out.displays = c.displays();
  c.close();
} else if (mode === 'watch') {
  const c = await createCapturer({ kind: 'win32', log });
  const s = c.openFrameSource(0);
  out.frames = [];
  out.errors = [];
  const end = Date.now() + Number(arg) * 1000;
  while (Date.now() < end) {
    try {
      const f = s.grab();
      if (f.changed) out.frames.push({ t: Date.now(), width: f.width, height: f.height, method: c.method });
    } catch (e) {
      out.errors.push(String(e && e.message));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  out.method = c.method;
  s.close();
  c.close();
} else if (mode === 'clip') {
  const clip = createClipboard({ backend: 'win32', log });
  await clip.write(arg);
  clip.close();
}
console.log(JSON.stringify(out));
"@
# UTF-8 without a byte-order mark (Set-Content -Encoding utf8 adds one in PowerShell 5.1).
[IO.File]::WriteAllText($desktopCheck, $desktopCheckSource)
function DesktopCheck([string[]]$arguments) {
  $o = & $Node $desktopCheck @arguments 2>&1 | Out-String
  if ($LASTEXITCODE -ne 0) { throw "desktop-check $($arguments -join ' ') exited $LASTEXITCODE`: $o" }
  return ($o.Trim() -split "`n")[-1] | ConvertFrom-Json
}

Check 'DXGI capture is chosen and lists the monitors of every adapter (EnumAdapters1)' {
  $r = DesktopCheck @('list')
  if ($r.method -ne 'dxgi') { throw "method $($r.method): $($r.lines | ConvertTo-Json -Compress)" }
  Add-Type -AssemblyName System.Windows.Forms
  $screens = [System.Windows.Forms.Screen]::AllScreens | ForEach-Object { $_.DeviceName }
  $names = @($r.outputs | ForEach-Object { $_.name })
  $missing = @($screens | Where-Object { $names -notcontains $_ })
  if ($missing.Count -gt 0) { throw "not listed by DXGI: $($missing -join ', ') (DXGI: $($names -join ', '))" }
  ($r.outputs | ForEach-Object { "$($_.name) on $($_.adapter)" }) -join '; '
}
try {
  $r = DesktopCheck @('list')
  $adapters = @($r.outputs | ForEach-Object { $_.adapterIndex } | Sort-Object -Unique)
  $gpus = @(Get-CimInstance Win32_VideoController)
  if ($adapters.Count -ge 2) {
    Report 'a monitor on a second GPU is listed' 'PASS' (($r.outputs | ForEach-Object { "$($_.name) on $($_.adapter)" }) -join '; ')
  } else {
    Report 'a monitor on a second GPU is listed' 'INCONCLUSIVE' "monitors on one adapter only ($($gpus.Count) video controller(s)); connect a monitor to a second GPU to check"
  }
} catch {
  Report 'a monitor on a second GPU is listed' 'FAIL' $_.Exception.Message
}

Add-Type -Namespace PortholeCheck -Name Display -MemberDefinition @'
[StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
public struct DEVMODE {
  [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 32)] public string dmDeviceName;
  public short dmSpecVersion; public short dmDriverVersion; public short dmSize; public short dmDriverExtra;
  public int dmFields; public int dmPositionX; public int dmPositionY; public int dmDisplayOrientation;
  public int dmDisplayFixedOutput; public short dmColor; public short dmDuplex; public short dmYResolution;
  public short dmTTOption; public short dmCollate;
  [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 32)] public string dmFormName;
  public short dmLogPixels; public int dmBitsPerPel; public int dmPelsWidth; public int dmPelsHeight;
  public int dmDisplayFlags; public int dmDisplayFrequency; public int dmICMMethod; public int dmICMIntent;
  public int dmMediaType; public int dmDitherType; public int dmReserved1; public int dmReserved2;
  public int dmPanningWidth; public int dmPanningHeight;
}
[DllImport("user32.dll", CharSet = CharSet.Unicode)] public static extern bool EnumDisplaySettingsW(string device, int mode, ref DEVMODE dm);
[DllImport("user32.dll", CharSet = CharSet.Unicode)] public static extern int ChangeDisplaySettingsExW(string device, ref DEVMODE dm, IntPtr hwnd, int flags, IntPtr param);
[DllImport("user32.dll", CharSet = CharSet.Unicode, EntryPoint = "ChangeDisplaySettingsExW")] public static extern int ResetDisplaySettings(string device, IntPtr dm, IntPtr hwnd, int flags, IntPtr param);
'@ -ErrorAction SilentlyContinue
Check 'a resolution change keeps DXGI frames coming, at the new size and back' {
  $dm = New-Object PortholeCheck.Display+DEVMODE
  $dm.dmSize = [Runtime.InteropServices.Marshal]::SizeOf($dm)
  if (-not [PortholeCheck.Display]::EnumDisplaySettingsW($null, -1, [ref]$dm)) { throw 'EnumDisplaySettingsW(ENUM_CURRENT_SETTINGS) failed' }
  $from = "$($dm.dmPelsWidth)x$($dm.dmPelsHeight)"
  $target = $null
  for ($i = 0; ; $i++) {
    $m = New-Object PortholeCheck.Display+DEVMODE
    $m.dmSize = $dm.dmSize
    if (-not [PortholeCheck.Display]::EnumDisplaySettingsW($null, $i, [ref]$m)) { break }
    if ($m.dmBitsPerPel -eq $dm.dmBitsPerPel -and $m.dmPelsWidth -ge 800 -and $m.dmPelsWidth -ne $dm.dmPelsWidth -and $m.dmDisplayOrientation -eq $dm.dmDisplayOrientation) { $target = $m; break }
  }
  if (-not $target) { throw "no other mode than $from to switch to" }
  $to = "$($target.dmPelsWidth)x$($target.dmPelsHeight)"
  $result = Join-Path $work 'watch.json'
  $watcher = Start-Process -FilePath $Node -ArgumentList @("`"$desktopCheck`"", 'watch', '16') -PassThru -NoNewWindow -RedirectStandardOutput $result
  try {
    Start-Sleep -Seconds 4
    # Dynamic (not saved) mode change of the primary display; reset below with a NULL mode.
    $rc = [PortholeCheck.Display]::ChangeDisplaySettingsExW($null, [ref]$target, [IntPtr]::Zero, 0, [IntPtr]::Zero)
    if ($rc -ne 0) { throw "ChangeDisplaySettingsExW to $to returned $rc" }
    Start-Sleep -Seconds 5
  } finally {
    [void][PortholeCheck.Display]::ResetDisplaySettings($null, [IntPtr]::Zero, [IntPtr]::Zero, 0, [IntPtr]::Zero)
  }
  $watcher.WaitForExit()
  $w = (Get-Content $result | Select-Object -Last 1) | ConvertFrom-Json
  $sizes = @($w.frames | ForEach-Object { "$($_.width)x$($_.height)" })
  $changedTo = [array]::IndexOf($sizes, $to)
  if ($changedTo -lt 0) { throw "no frame at $to after the change (frames: $($sizes -join ' '); method $($w.method); errors $($w.errors -join '; '))" }
  if (@($sizes[$changedTo..($sizes.Count - 1)]) -notcontains $from) { throw "no frame back at $from after the reset (frames: $($sizes -join ' '))" }
  if ($w.method -ne 'dxgi') { throw "the capturer ended on $($w.method): $($w.lines | ConvertTo-Json -Compress)" }
  "$from -> $to -> $from, $($sizes.Count) changed frames, $(@($w.lines | Where-Object { $_.msg -eq 'desktop size changed' }).Count) size changes logged"
}

$clipText = "porthole clipboard $([guid]::NewGuid().ToString('N').Substring(0, 8)) $([char]0x2713)"
Check 'a clipboard write from the helper stays on the clipboard after the writer exited (Get-Clipboard)' {
  DesktopCheck @('clip', $clipText) | Out-Null
  $got = (Get-Clipboard -Raw)
  if ($got -ne $clipText) { throw "Get-Clipboard returned '$got'" }
  'owner window and process gone, text still there'
}
try {
  $file = Join-Path $work 'paste.txt'
  Set-Content -Path $file -Value '' -NoNewline -Encoding utf8
  $np = Start-Process notepad.exe -ArgumentList "`"$file`"" -PassThru
  try {
    Start-Sleep -Seconds 2
    $shell = New-Object -ComObject WScript.Shell
    if (-not $shell.AppActivate($np.Id)) { [void]$shell.AppActivate('paste') }
    Start-Sleep -Milliseconds 500
    $shell.SendKeys('^v')
    Start-Sleep -Milliseconds 500
    $shell.SendKeys('^s')
    Start-Sleep -Seconds 1
  } finally {
    Stop-Process -Id $np.Id -ErrorAction SilentlyContinue
    Get-Process -Name notepad -ErrorAction SilentlyContinue | Where-Object { $_.MainWindowTitle -like 'paste*' } | Stop-Process -ErrorAction SilentlyContinue
  }
  $saved = (Get-Content -Raw -Encoding utf8 $file)
  if ($saved -eq $clipText) { Report 'the helper''s clipboard text pastes into Notepad' 'PASS' 'pasted and saved' }
  elseif (-not $saved) { Report 'the helper''s clipboard text pastes into Notepad' 'INCONCLUSIVE' 'nothing saved: the keystrokes may not have reached Notepad; paste by hand' }
  else { Report 'the helper''s clipboard text pastes into Notepad' 'FAIL' "Notepad saved '$saved'" }
} catch {
  Report 'the helper''s clipboard text pastes into Notepad' 'FAIL' $_.Exception.Message
}

# 9. Injected input on the Default desktop (issue 14, item 1): the helper's injector from dist/, in this
#    (the console user's) session. Windows refuses SendInput from a thread whose desktop handle lacks
#    DESKTOP_JOURNALPLAYBACK, which the input-desktop follower's handle did (0x10 is JOURNALRECORD):
#    under Wine, which does not check, the cursor moved anyway.
$inputCheck = Join-Path $work 'input-check.mjs'
$inputCheckSource = @"
import { createInputInjector } from '$distUrl/helper/input/index.js';
import { followedDesktop } from '$distUrl/helper/win32-input-desktop/input-desktop-follower.js';
const [x, y, left, top, width, height] = process.argv.slice(2).map(Number);
const lines = [];
const log = {
  debug: (o, msg) => lines.push({ level: 'debug', ...o, msg }),
  info: (o, msg) => lines.push({ level: 'info', ...o, msg }),
  warn: (o, msg) => lines.push({ level: 'warn', ...o, msg }),
};
const injector = createInputInjector({ backend: 'win32', log });
injector.pointerMove({ x: left, y: top, width, height }, (x - left) / width, (y - top) / height);
const followed = followedDesktop();
console.log(JSON.stringify({ desktop: followed && followed.name, access: followed && followed.access, lines }));
injector.close();
"@
[IO.File]::WriteAllText($inputCheck, $inputCheckSource)
Check 'an injected pointer move lands on the pixel asked for on Default (GetCursorPos), through a handle with DESKTOP_JOURNALPLAYBACK' {
  Add-Type -AssemblyName System.Windows.Forms
  $b = [System.Windows.Forms.Screen]::PrimaryScreen.Bounds
  $x = $b.Left + [int]($b.Width * 0.37); $y = $b.Top + [int]($b.Height * 0.61)
  [System.Windows.Forms.Cursor]::Position = New-Object System.Drawing.Point($b.Left + 5, $b.Top + 5)
  $o = & $Node $inputCheck $x $y $b.Left $b.Top $b.Width $b.Height 2>&1 | Out-String
  if ($LASTEXITCODE -ne 0) { throw "input-check exited $LASTEXITCODE`: $o" }
  $r = ($o.Trim() -split "`n")[-1] | ConvertFrom-Json
  $p = [System.Windows.Forms.Cursor]::Position
  if ($r.desktop -ne 'Default') { throw "followed desktop '$($r.desktop)'" }
  if (($r.access -band 0x20) -eq 0) { throw ("desktop handle access 0x{0:x} lacks DESKTOP_JOURNALPLAYBACK" -f $r.access) }
  $refused = @($r.lines | Where-Object { $_.msg -eq 'input not injected' })
  if ($refused.Count -gt 0) { throw "SendInput refused: $($refused | ConvertTo-Json -Compress)" }
  if ([Math]::Abs($p.X - $x) -gt 1 -or [Math]::Abs($p.Y - $y) -gt 1) { throw "cursor at $($p.X),$($p.Y), asked for $x,$y" }
  "cursor at $($p.X),$($p.Y); desktop handle access 0x{0:x}" -f $r.access
}

# 10. Failure actions (issue 14, item 3), on a service of their own. A killed service process is a crash:
#     the SCM restarts it after 5 s, and the helpers die with it (each helper's job is kill-on-close and
#     its only handle was in the killed process). A start that fails reports SERVICE_STOPPED with
#     ERROR_SERVICE_SPECIFIC_ERROR, a "non-crash failure": restarted only with SERVICE_FAILURE_ACTIONS_FLAG,
#     which, its docs say, takes effect the next time the system is started.
Check 'failure-actions flag read back by sc.exe qfailureflag' {
  Porthole @('service', 'install', '--name', $ServiceName, '--config', $config, '--log-dir', $logDir) | Out-Null
  $q = (sc.exe qfailureflag $ServiceName | Out-String)
  if ($q -notmatch 'FAILURE_ACTIONS_ON_NONCRASH_FAILURES\s*:\s*TRUE') { throw $q.Trim() }
  'TRUE'
}
Check 'a killed service process is restarted by the SCM, and its helper dies with it' {
  Porthole @('service', 'start', '--name', $ServiceName) | Out-Null
  $first = (Get-CimInstance Win32_Service -Filter "Name='$ServiceName'").ProcessId
  WaitUntil 'a helper of the service' { Get-CimInstance Win32_Process -Filter "ParentProcessId=$first" | Where-Object { $_.Name -eq 'node.exe' } }
  $child = Get-CimInstance Win32_Process -Filter "ParentProcessId=$first" | Where-Object { $_.Name -eq 'node.exe' } | Select-Object -First 1
  Stop-Process -Id $first -Force
  WaitUntil 'the helper to die with the service' { -not (Get-Process -Id $child.ProcessId -ErrorAction SilentlyContinue) }
  WaitUntil 'the SCM to restart the service' {
    $now = (Get-CimInstance Win32_Service -Filter "Name='$ServiceName'").ProcessId
    $now -and $now -ne $first -and (Get-Service $ServiceName).Status -eq 'Running'
  }
  "pid $first killed (helper $($child.ProcessId) gone), restarted as $((Get-CimInstance Win32_Service -Filter "Name='$ServiceName'").ProcessId)"
}
try {
  Porthole @('service', 'stop', '--name', $ServiceName) | Out-Null
  $missing = Join-Path $work 'no-such-config.json'
  Porthole @('service', 'install', '--name', $ServiceName, '--config', $missing, '--log-dir', $logDir) | Out-Null
  $failedStarts = { @(LogLines | Where-Object { $_.msg -eq 'service start failed' }).Count }
  $before = & $failedStarts
  sc.exe start $ServiceName | Out-Null
  $end = (Get-Date).AddSeconds(30)
  while ((& $failedStarts) -lt $before + 2 -and (Get-Date) -lt $end) { Start-Sleep -Milliseconds 500 }
  $after = & $failedStarts
  $step = 'a start that fails (reported SERVICE_STOPPED, exit 1066) is restarted by the SCM'
  if ($after -ge $before + 2) { Report $step 'PASS' "$($after - $before) failed starts logged" }
  elseif ($after -eq $before + 1) {
    $boot = (Get-CimInstance Win32_OperatingSystem).LastBootUpTime
    Report $step 'INCONCLUSIVE' "one failed start and no restart within 30 s; the flag takes effect after Windows restarts (last boot $boot): install porthole, reboot, and run again"
  } else { Report $step 'FAIL' 'the failing start did not reach service.log' }
} catch {
  Report 'a start that fails (reported SERVICE_STOPPED, exit 1066) is restarted by the SCM' 'FAIL' $_.Exception.Message
} finally {
  & $Node $porthole service uninstall --name $ServiceName 2>&1 | Out-Null
}

# A temporary standard (non-admin) local user runs $probe, a PowerShell command whose output goes to a
# file: that output is returned. The user is removed afterwards.
function AsStandardUser([string]$probe) {
  $user = 'phvmcheck2'
  $password = 'Pc!' + [guid]::NewGuid().ToString('N').Substring(0, 16)
  $result = Join-Path $env:PUBLIC "porthole-user-check-$([guid]::NewGuid().ToString('N').Substring(0, 6)).txt"
  try {
    New-LocalUser -Name $user -Password (ConvertTo-SecureString $password -AsPlainText -Force) -AccountNeverExpires | Out-Null
    $cred = New-Object PSCredential ".\$user", (ConvertTo-SecureString $password -AsPlainText -Force)
    $command = "& { $probe } | Set-Content -Path '$result'"
    Start-Process powershell.exe -Credential $cred -WorkingDirectory $env:PUBLIC -WindowStyle Hidden -Wait `
      -ArgumentList @('-NoProfile', '-NonInteractive', '-Command', $command)
    return (Get-Content $result -ErrorAction Stop | Out-String).Trim()
  } finally {
    Remove-LocalUser -Name $user -ErrorAction SilentlyContinue
    Remove-Item $result -ErrorAction SilentlyContinue
  }
}

# 11. The helper's pipe client (issue 14, item 13): it opens the pipe with SECURITY_SQOS_PRESENT |
#     SECURITY_IDENTIFICATION, so the process serving the pipe can identify it but not act as it. Wine
#     ignores the flags; here a pipe of the check's own reads the level each client allows. That the
#     helper checks the real service (its pid and LocalSystem) is shown by every helper that got ready.
$levelCheck = Join-Path $work 'pipe-level-check.mjs'
$levelCheckSource = @"
import net from 'node:net';
import { once } from 'node:events';
import { BrokerPipe, SDDL_SYSTEM_ONLY } from '$distUrl/service/windows/pipe-server.js';
import { openPipeClient, pipeClientImpersonationLevel } from '$distUrl/native/win32/pipe-client.js';
import { EventWaiter } from '$distUrl/native/win32/event-waiter.js';
import { PipeStream } from '$distUrl/native/win32/pipe-stream.js';
const waiter = new EventWaiter();
// ImpersonateNamedPipeClient takes the context of the last message read: the server reads one first.
async function level(connect) {
  const name = '\\.\pipe\porthole-vmcheck-' + process.pid + '-' + Math.random().toString(16).slice(2);
  const pipe = new BrokerPipe(name, SDDL_SYSTEM_ONLY);
  const accepted = pipe.accept(waiter, { pid: process.pid }, { timeoutMs: 10000 });
  const client = await connect(name);
  client.on('error', () => {});
  client.write('x');
  const server = await accepted;
  try {
    while (server.read() === null) await once(server, 'readable');
    return pipeClientImpersonationLevel(pipe.handle);
  } finally { client.destroy(); server.destroy(); }
}
const ours = await level(async (name) => new PipeStream(openPipeClient(name), waiter));
const nodeNet = await level(async (name) => { const s = net.connect(name); await once(s, 'connect'); return s; });
waiter.close();
console.log(JSON.stringify({ ours, nodeNet }));
process.exit(0);
"@
[IO.File]::WriteAllText($levelCheck, $levelCheckSource)
Check 'the helper''s pipe client allows SecurityIdentification only (node:net allows SecurityImpersonation)' {
  $o = & $Node $levelCheck 2>&1 | Out-String
  if ($LASTEXITCODE -ne 0) { throw "pipe-level-check exited $LASTEXITCODE`: $o" }
  $r = ($o.Trim() -split "`n")[-1] | ConvertFrom-Json
  if ($r.ours -ne 1) { throw "the helper's client allows level $($r.ours), not 1 (SecurityIdentification)" }
  "porthole's client: $($r.ours) (SecurityIdentification); node:net: $($r.nodeNet)"
}

# 12. %ProgramData%\porthole (issue 14, item 13): install created or repaired it with a protected DACL for
#     SYSTEM and Administrators only (ProgramData itself lets every user create folders and files).
$dataDir = Join-Path $env:ProgramData 'porthole'
Check 'read back the ProgramData DACL: protected, SYSTEM and Administrators only, owned by one of them' {
  $acl = Get-Acl -Path $dataDir
  if (-not $acl.AreAccessRulesProtected) { throw "the DACL inherits from ProgramData: $($acl.Sddl)" }
  $sids = @($acl.Access | ForEach-Object { $_.IdentityReference.Translate([Security.Principal.SecurityIdentifier]).Value })
  $others = @($sids | Where-Object { $_ -ne 'S-1-5-18' -and $_ -ne 'S-1-5-32-544' })
  if ($others.Count -gt 0) { throw "entries for $($others -join ', '): $($acl.Sddl)" }
  if (($sids -notcontains 'S-1-5-18') -or ($sids -notcontains 'S-1-5-32-544')) { throw "SYSTEM or Administrators missing: $($acl.Sddl)" }
  $owner = (New-Object Security.Principal.NTAccount $acl.Owner).Translate([Security.Principal.SecurityIdentifier]).Value
  if ($owner -ne 'S-1-5-18' -and $owner -ne 'S-1-5-32-544') { throw "owner $($acl.Owner)" }
  $acl.Sddl
}
try {
  # Access denied, whatever the display language: the exception type or the error category.
  $denied = "if (`$_.Exception -is [System.UnauthorizedAccessException] -or `$_.CategoryInfo.Category -eq 'PermissionDenied') { 'DENIED' } else { 'ERROR ' + `$_.Exception.Message }"
  $probe = "try { New-Item -ItemType File -Path '$dataDir\user-probe.txt' -ErrorAction Stop | Out-Null; 'CREATED' } catch { $denied }; " +
    "try { Get-ChildItem -Path '$dataDir' -ErrorAction Stop | Out-Null; 'LISTED' } catch { $denied }"
  $r = AsStandardUser $probe
  $lines = @($r -split "`r?`n")
  if ($lines[0] -eq 'DENIED' -and $lines[1] -eq 'DENIED') {
    Report 'a standard user can neither create a file in nor list %ProgramData%\porthole' 'PASS' $dataDir
  } else {
    Report 'a standard user can neither create a file in nor list %ProgramData%\porthole' 'FAIL' ($lines -join ' / ')
  }
} catch {
  Report 'a standard user can neither create a file in nor list %ProgramData%\porthole' 'FAIL' $_.Exception.Message
} finally {
  Remove-Item (Join-Path $dataDir 'user-probe.txt') -ErrorAction SilentlyContinue
}

# 12b. Enrollment (issue 16, section 1): `porthole service enroll` against a real `porthole api serve` on
#      loopback, writing into a folder of %PUBLIC% (which every user may read) so that only the files'
#      own DACL keeps a standard user out. Wine keeps no DACL: the read-back and the refusal are shown here.
$enrollApiDir = Join-Path $work 'enroll-api'
$enrollDir = Join-Path $env:PUBLIC ("porthole-enroll-check-" + [guid]::NewGuid().ToString('N').Substring(0, 6))
$enrollApiOut = Join-Path $work 'enroll-api.out.log'
$enrollApi = $null
try {
  New-Item -ItemType Directory -Path $enrollDir | Out-Null
  $enrollApi = Start-Process -FilePath $Node -WorkingDirectory $root -PassThru -NoNewWindow `
    -RedirectStandardOutput $enrollApiOut -RedirectStandardError (Join-Path $work 'enroll-api.err.log') `
    -ArgumentList @("`"$porthole`"", 'api', 'serve', '--port', '0', '--data-dir', "`"$enrollApiDir`"", '--log-level', 'warn')
  # The API's own process holds the file open: a read may meet a sharing violation, which is "not yet".
  WaitUntil 'porthole api serve to listen' { try { (Get-Content -Raw $enrollApiOut -ErrorAction Stop) -match 'listening on (http://[^ ]+)' } catch { $false } }
  $enrollUrl = [regex]::Match((Get-Content -Raw $enrollApiOut), 'listening on (http://[^ ]+)').Groups[1].Value
  $keyJson = & $Node $porthole api enroll-key create --data-dir $enrollApiDir --json | Out-String
  $env:PORTHOLE_ENROLL_KEY = ($keyJson | ConvertFrom-Json).key
  $enrollOut = & $Node $porthole service enroll --server $enrollUrl --config (Join-Path $enrollDir 'porthole.json') 2>&1 | Out-String
  $enrollExit = $LASTEXITCODE
  Remove-Item Env:\PORTHOLE_ENROLL_KEY -ErrorAction SilentlyContinue
  if ($enrollExit -ne 0) { throw "porthole service enroll exited $enrollExit`: $enrollOut" }
  $tokenFile = Join-Path $enrollDir 'device-token'
  foreach ($file in @($tokenFile, (Join-Path $enrollDir 'porthole.json'))) {
    Check "read back the DACL of $(Split-Path -Leaf $file): protected, SYSTEM and Administrators only" {
      $acl = Get-Acl -Path $file
      if (-not $acl.AreAccessRulesProtected) { throw "the DACL inherits from the folder: $($acl.Sddl)" }
      $sids = @($acl.Access | ForEach-Object { $_.IdentityReference.Translate([Security.Principal.SecurityIdentifier]).Value })
      $others = @($sids | Where-Object { $_ -ne 'S-1-5-18' -and $_ -ne 'S-1-5-32-544' })
      if ($others.Count -gt 0) { throw "entries for $($others -join ', '): $($acl.Sddl)" }
      $acl.Sddl
    }
  }
  $probe = "try { Get-Content -Path '$tokenFile' -ErrorAction Stop | Out-Null; 'READ' } catch { if (`$_.Exception -is [System.UnauthorizedAccessException] -or `$_.CategoryInfo.Category -eq 'PermissionDenied') { 'DENIED' } else { 'ERROR ' + `$_.Exception.Message } }"
  $r = AsStandardUser $probe
  if ($r -eq 'DENIED') { Report 'a standard user cannot read the enrolled device token' 'PASS' $tokenFile }
  else { Report 'a standard user cannot read the enrolled device token' 'FAIL' $r }
  Check 'enrolling again without --force exits 3 (already enrolled) and changes nothing' {
    $env:PORTHOLE_ENROLL_KEY = ($keyJson | ConvertFrom-Json).key
    $again = & $Node $porthole service enroll --server $enrollUrl --config (Join-Path $enrollDir 'porthole.json') 2>&1 | Out-String
    $code = $LASTEXITCODE
    Remove-Item Env:\PORTHOLE_ENROLL_KEY -ErrorAction SilentlyContinue
    if ($code -ne 3) { throw "exit $code`: $again" }
    $again.Trim()
  }
} catch {
  Report 'porthole service enroll against a real API' 'FAIL' $_.Exception.Message
} finally {
  Remove-Item Env:\PORTHOLE_ENROLL_KEY -ErrorAction SilentlyContinue
  if ($enrollApi) { Stop-Process -Id $enrollApi.Id -Force -ErrorAction SilentlyContinue }
  Remove-Item -Recurse -Force $enrollDir -ErrorAction SilentlyContinue
}

# 12c. Media Foundation H.264 encoders (issue 15): 300 frames at 1920x1080 and 1280x720 with each encoder
#      MFT this machine has (hardware ones first, then Microsoft's software MFT): ms/frame, a keyframe on
#      demand landing on the frame asked, a bitrate change, and the stream decoded by Windows' own H.264
#      decoder MFT to check the picture (scripts\windows-vm-mf.ts, bench\mf-encode-check.ts). Wine 8 has
#      no H.264 encoder MFT: this is the only place they run. The table it prints goes to BENCHMARKS.md.
$mfOut = Join-Path $work 'vm-mf.out.log'
$mfErr = Join-Path $work 'vm-mf.err.log'
try {
  $mfArgs = @("`"$(Join-Path $root 'node_modules\tsx\dist\cli.mjs')`"", "`"$(Join-Path $root 'scripts\windows-vm-mf.ts')`"", '300')
  $mf = Start-Process -FilePath $Node -WorkingDirectory $root -ArgumentList $mfArgs -NoNewWindow -PassThru -Wait `
    -RedirectStandardOutput $mfOut -RedirectStandardError $mfErr
  $mfLines = @(Get-Content -Encoding UTF8 $mfOut | Where-Object { $_.StartsWith('{') } | ForEach-Object { $_ | ConvertFrom-Json })
  if ($mfLines.Count -eq 0) { throw "no result (exit $($mf.ExitCode); see $mfOut and $mfErr)" }
  foreach ($l in $mfLines) {
    $name = if ($l.row) { "$($l.row.mft) $($l.row.size)" } else { 'none found' }
    Report "Media Foundation H.264 encoder: $name" $l.result $l.detail
  }
  Write-Host 'Media Foundation figures for design/BENCHMARKS.md:'
  Get-Content -Encoding UTF8 $mfOut | Where-Object { $_.StartsWith('|') } | ForEach-Object { Write-Host $_ }
} catch {
  Report 'Media Foundation H.264 encoders (windows-vm-mf.ts)' 'FAIL' $_.Exception.Message
}

# 12d. The MSI (issue 16, section 2), with -MsiOld and -MsiNew: what Wine cannot show. A silent install
#      with SERVER_URL and ENROLL_KEY against a real `porthole api serve` on loopback enrolls (fetch works
#      here), runs the service as LocalSystem with the failure actions and their flag, keeps the key out of
#      the verbose log (MsiHiddenProperties and HideTarget; Wine logs every property) and the registry;
#      the data folder's DACL is protected; ENABLE_SAS=1 sets SoftwareSASGeneration; an upgrade keeps the
#      device id; /x removes the service and the files and keeps the data; REMOVE_DATA=1 deletes it.
#      It installs the real "porthole" service: run it on a VM without one.
if ($MsiOld -and $MsiNew) {
  $msiApiDir = Join-Path $work 'msi-api'
  $msiApiOut = Join-Path $work 'msi-api.out.log'
  $msiApi = $null
  $dataDir = Join-Path $env:ProgramData 'porthole'
  $msiLog = { param($name) Join-Path $work "msi-$name.log" }
  $msiexec = {
    param($name, [string[]]$arguments)
    $p = Start-Process -FilePath msiexec.exe -Wait -PassThru -ArgumentList ($arguments + @('/qn', '/l*v', "`"$(& $msiLog $name)`""))
    return $p.ExitCode
  }
  try {
    $msiApi = Start-Process -FilePath $Node -WorkingDirectory $root -PassThru -NoNewWindow `
      -RedirectStandardOutput $msiApiOut -RedirectStandardError (Join-Path $work 'msi-api.err.log') `
      -ArgumentList @("`"$porthole`"", 'api', 'serve', '--port', '0', '--data-dir', "`"$msiApiDir`"", '--log-level', 'warn')
    WaitUntil 'porthole api serve to listen' { try { (Get-Content -Raw $msiApiOut -ErrorAction Stop) -match 'listening on (http://[^ ]+)' } catch { $false } }
    $msiUrl = [regex]::Match((Get-Content -Raw $msiApiOut), 'listening on (http://[^ ]+)').Groups[1].Value.TrimEnd('/')
    $msiKey = ((& $Node $porthole api enroll-key create --data-dir $msiApiDir --json | Out-String) | ConvertFrom-Json).key
    $code = & $msiexec 'install' @('/i', "`"$MsiOld`"", "SERVER_URL=$msiUrl", "ENROLL_KEY=$msiKey", 'ENABLE_SAS=1')
    Check 'msiexec /i /qn SERVER_URL ENROLL_KEY ENABLE_SAS=1 exits 0' { if ($code -ne 0) { throw "exit $code (see $(& $msiLog 'install'))" }; 'installed' }
    Check 'the MSI service: running, LocalSystem, auto start, restart x3 also after a reported failure' {
      $st = Porthole @('service', 'status', '--json') | ConvertFrom-Json
      if ($st.state -ne 'running') { throw "state $($st.state)" }
      if ($st.account -notmatch 'LocalSystem') { throw "account $($st.account)" }
      if ($st.startType -ne 'auto') { throw "start type $($st.startType)" }
      if (($st.restartDelaysMs -join ',') -ne '5000,5000,5000') { throw "failure actions $($st.restartDelaysMs -join ',')" }
      if ($st.failureActionsOnNonCrashFailures -ne $true) { throw 'failure-actions flag not set' }
      $st.binaryPath
    }
    Check 'the enrollment key is in neither the verbose log nor the registry' {
      if ((Get-Content -Raw (& $msiLog 'install')) -match [regex]::Escape($msiKey)) { throw 'the key is in the msiexec log' }
      $hit = & reg.exe query HKLM /f $msiKey /s /d 2>&1 | Select-String -SimpleMatch $msiKey
      if ($hit) { throw "the key is in the registry: $hit" }
      'absent'
    }
    Check "$dataDir and its token: protected DACL, SYSTEM and Administrators only" {
      foreach ($p in @($dataDir, (Join-Path $dataDir 'device-token'))) {
        $acl = Get-Acl -Path $p
        $others = @($acl.Access | ForEach-Object { $_.IdentityReference.Translate([Security.Principal.SecurityIdentifier]).Value } | Where-Object { $_ -ne 'S-1-5-18' -and $_ -ne 'S-1-5-32-544' })
        if ($others.Count -gt 0) { throw "$p grants $($others -join ', '): $($acl.Sddl)" }
      }
      'ok'
    }
    Check 'ENABLE_SAS=1 set SoftwareSASGeneration to 1' {
      $v = (Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' -Name SoftwareSASGeneration -ErrorAction Stop).SoftwareSASGeneration
      if ($v -ne 1) { throw "SoftwareSASGeneration = $v" }
      'set'
    }
    Check 'the Event Log shows the service start with its text (message file registered)' {
      $e = Get-WinEvent -FilterHashtable @{ LogName = 'Application'; ProviderName = 'porthole'; Id = 1 } -MaxEvents 1 -ErrorAction Stop
      if ($e.Message -notmatch 'service started') { throw "message: $($e.Message)" }
      $e.Message
    }
    $deviceId = (Get-Content -Raw (Join-Path $dataDir 'porthole.json') | ConvertFrom-Json).api.deviceId
    $code = & $msiexec 'upgrade' @('/i', "`"$MsiNew`"", "SERVER_URL=$msiUrl", "ENROLL_KEY=$msiKey")
    Check 'an upgrade keeps the device id and the SAS policy, and the service runs again' {
      if ($code -ne 0) { throw "exit $code (see $(& $msiLog 'upgrade'))" }
      $after = (Get-Content -Raw (Join-Path $dataDir 'porthole.json') | ConvertFrom-Json).api.deviceId
      if ($after -ne $deviceId) { throw "device id $deviceId became $after" }
      $st = Porthole @('service', 'status', '--json') | ConvertFrom-Json
      if ($st.state -ne 'running') { throw "state $($st.state)" }
      $v = (Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' -Name SoftwareSASGeneration -ErrorAction SilentlyContinue).SoftwareSASGeneration
      if ($v -ne 1) { throw "SoftwareSASGeneration = $v after the upgrade" }
      $deviceId
    }
    $code = & $msiexec 'uninstall' @('/x', "`"$MsiNew`"")
    Check 'msiexec /x removes the service, the program files and the SAS policy, and keeps the data' {
      if ($code -ne 0) { throw "exit $code (see $(& $msiLog 'uninstall'))" }
      if (Get-Service -Name porthole -ErrorAction SilentlyContinue) { throw 'the service is still there' }
      if (Test-Path (Join-Path $env:ProgramFiles 'porthole\node.exe')) { throw 'node.exe is still there' }
      if (-not (Test-Path (Join-Path $dataDir 'device-token'))) { throw 'the device token is gone' }
      if ($null -ne (Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' -Name SoftwareSASGeneration -ErrorAction SilentlyContinue)) { throw 'SoftwareSASGeneration is still set' }
      'removed, data kept'
    }
    $code = & $msiexec 'reinstall' @('/i', "`"$MsiNew`"")
    $code2 = & $msiexec 'remove-data' @('/x', "`"$MsiNew`"", 'REMOVE_DATA=1')
    Check 'a reinstall reuses the enrollment; /x REMOVE_DATA=1 deletes the data folder' {
      if ($code -ne 0 -or $code2 -ne 0) { throw "exit $code / $code2" }
      if (Test-Path $dataDir) { throw "$dataDir is still there" }
      'deleted'
    }
  } catch {
    Report 'the MSI: install, enroll, upgrade, uninstall' 'FAIL' $_.Exception.Message
  } finally {
    if ($msiApi) { Stop-Process -Id $msiApi.Id -Force -ErrorAction SilentlyContinue }
  }
} else {
  Report 'the MSI (step 12d)' 'INCONCLUSIVE' 'not run: pass -MsiOld and -MsiNew (npm run package:win, twice with a higher --version)'
}

# 12e. File transfer from the SYSTEM helper (issue 17 section 1): NOT BUILT. The helper answers
#      `unavailable` on the files channel when it runs as SYSTEM. Once the impersonated open of
#      design/FILES.md ("Whose identity") is built, this step must show, with the console user's token:
#      an upload created by CreateFileW(CREATE_NEW) while impersonating is owned by that user (Get-Acl
#      .Owner) and lands in their Downloads; a file whose DACL grants only SYSTEM is refused ('denied');
#      a junction and a directory symlink in the profile pointing at C:\Windows are refused
#      ('outside_root'); `CON.txt`, `a:b` and `name.` are refused; no alternate data stream is created.
#      Wine enforces no access checks and has no real token owners: none of this can be shown there.
Report 'file transfer as the session user from the SYSTEM helper (step 12e)' 'INCONCLUSIVE' 'not built yet: the SYSTEM helper answers unavailable on the files channel (design/FILES.md)'

# 12f. The consent prompt (issue 17 section 2): WTSSendMessageW into a real user session through koffi's
#      `.async` (Wine's is a stub returning FALSE). From this elevated process into the console session:
#      a box nobody answers returns IDTIMEOUT (32000) after its timeout while the main thread keeps
#      running (a timer ticks during the wait); then the tester presses No (the default button) in a
#      second box: IDNO (7). The service sends the same call from Session 0 (SYSTEM); a box in a second
#      signed-in (Switch user / RDP) session is checked by passing its id as the second argument.
$consentCheck = Join-Path $work 'consent-check.mjs'
$consentCheckSource = @"
import { sendMessageAsync } from '$distUrl/native/win32/wtsapi32.js';
import { CONSENT_BOX_STYLE, consentFromResponse } from '$distUrl/service/windows/win32-consent-prompt.js';
const [seconds, session] = [Number(process.argv[2]), Number(process.argv[3])];
let ticks = 0;
const timer = setInterval(() => (ticks += 1), 100);
const t0 = Date.now();
const title = 'porthole VM check';
const text = seconds > 10 ? 'Press No.' : 'Leave this box alone: it closes by itself.';
const response = await sendMessageAsync(session, title, text, CONSENT_BOX_STYLE, seconds);
clearInterval(timer);
console.log(JSON.stringify({ response, outcome: consentFromResponse(response).outcome, ticks, ms: Date.now() - t0 }));
"@
[IO.File]::WriteAllText($consentCheck, $consentCheckSource)
function ConsentCheck([int]$seconds, [int]$session) {
  $o = & $Node $consentCheck $seconds $session 2>&1 | Out-String
  if ($LASTEXITCODE -ne 0) { throw "consent-check exited $LASTEXITCODE`: $o" }
  return ($o.Trim() -split "`n")[-1] | ConvertFrom-Json
}
Check 'WTSSendMessageW: an unanswered box times out (IDTIMEOUT) without blocking the main thread (step 12f)' {
  $r = ConsentCheck 5 $consoleSession
  if ($r.response -ne 32000) { throw "response $($r.response), expected IDTIMEOUT (32000)" }
  if ($r.ticks -lt 20) { throw "only $($r.ticks) timer ticks during $($r.ms) ms: the main thread was blocked" }
  "timed out after $($r.ms) ms; $($r.ticks) ticks meanwhile"
}
Write-Host 'Step 12f: a box titled "porthole VM check" appears: press No within 30 s.' -ForegroundColor Yellow
try {
  $r = ConsentCheck 30 $consoleSession
  if ($r.response -eq 7) { Report 'WTSSendMessageW: No pressed is IDNO, a denial (step 12f)' 'PASS' "$($r.ms) ms" }
  elseif ($r.response -eq 32000) { Report 'WTSSendMessageW: No pressed is IDNO (step 12f)' 'INCONCLUSIVE' 'nobody pressed No in time' }
  else { Report 'WTSSendMessageW: No pressed is IDNO (step 12f)' 'FAIL' "response $($r.response) ($($r.outcome))" }
} catch {
  Report 'WTSSendMessageW: No pressed is IDNO (step 12f)' 'FAIL' $_.Exception.Message
}

# 12g. The being-viewed indicator (issue 17 section 2): its window, made by the code of
#      `porthole indicator-window`, in this session. Under Wine SetWindowDisplayAffinity fails, so only
#      here can it be seen that (a) WDA_EXCLUDEFROMCAPTURE holds on Windows 10 2004+ (`ready` says
#      `exclude`), (b) a GDI read of the screen (CopyFromScreen, a BitBlt of the screen DC) shows what is
#      behind the bar, not its dark red, and (c) a click on Disconnect by a person reaches the helper's
#      end (stdout `disconnect`) without taking the focus. Not covered: the bar over a full-screen or
#      another topmost window, and Desktop Duplication (step 13's helper captures with it while connected).
$indicatorCheck = Join-Path $work 'indicator-check.mjs'
$indicatorEvents = Join-Path $work 'indicator-events.jsonl'
$indicatorCheckSource = @"
import { appendFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { runIndicatorWindow } from '$distUrl/helper/presence/win32-indicator-window.js';
const out = process.argv[2];
writeFileSync(out, '');
const input = new PassThrough();
const run = runIndicatorWindow(input, (line) => {
  appendFileSync(out, line);
  if (line.includes('"disconnect"')) setTimeout(() => input.end(), 200);
});
input.write(JSON.stringify({ text: 'porthole VM check is viewing this screen' }) + '\n');
setTimeout(() => input.end(), 45_000);
await run.done;
"@
[IO.File]::WriteAllText($indicatorCheck, $indicatorCheckSource)
$indicatorProc = Start-Process -FilePath $Node -ArgumentList @($indicatorCheck, $indicatorEvents) -PassThru -WindowStyle Hidden
try {
  $deadline = (Get-Date).AddSeconds(15)
  while (-not ((Test-Path $indicatorEvents) -and (Get-Content $indicatorEvents -Raw) -match '"ready"')) {
    if ((Get-Date) -gt $deadline) { throw 'the indicator window did not report ready in 15 s' }
    Start-Sleep -Milliseconds 200
  }
  $ready = (Get-Content $indicatorEvents | Where-Object { $_ -match '"ready"' } | Select-Object -First 1) | ConvertFrom-Json
  Check 'indicator: SetWindowDisplayAffinity(WDA_EXCLUDEFROMCAPTURE) holds (step 12g)' {
    if ($ready.affinity -ne 'exclude') { throw "affinity '$($ready.affinity)' (Windows before 10 2004 gives 'monitor')" }
    'exclude'
  }
  Check 'indicator: a GDI screen read does not show the bar (step 12g)' {
    Add-Type -AssemblyName System.Drawing
    Add-Type -AssemblyName System.Windows.Forms
    Start-Sleep -Milliseconds 500
    $screenW = [System.Windows.Forms.Screen]::PrimaryScreen.Bounds.Width
    $bmp = New-Object System.Drawing.Bitmap 600, 40
    $g = [System.Drawing.Graphics]::FromImage($bmp)
    $g.CopyFromScreen([int][Math]::Floor(($screenW - 600) / 2), 0, 0, 0, $bmp.Size)
    $px = $bmp.GetPixel(200, 36)
    $g.Dispose(); $bmp.Dispose()
    # Below the label, only the bar's own brush paints: RGB(0x8b, 0x1a, 0x1a). A WDA_MONITOR read is black.
    if ([Math]::Abs($px.R - 0x8b) -lt 12 -and [Math]::Abs($px.G - 0x1a) -lt 12 -and [Math]::Abs($px.B - 0x1a) -lt 12) {
      throw "the capture shows the bar's colour at (200,36): $px"
    }
    if ($px.R -eq 0 -and $px.G -eq 0 -and $px.B -eq 0) { throw 'the capture is black there (WDA_MONITOR, not excluded)' }
    "pixel behind the bar: $px"
  }
  Write-Host 'Step 12g: a dark red bar is at the top of the screen: click its Disconnect button within 30 s.' -ForegroundColor Yellow
  $deadline = (Get-Date).AddSeconds(30)
  while (-not ((Get-Content $indicatorEvents -Raw) -match '"disconnect"') -and (Get-Date) -lt $deadline) {
    Start-Sleep -Milliseconds 200
  }
  if ((Get-Content $indicatorEvents -Raw) -match '"disconnect"') {
    Report 'indicator: Disconnect clicked by a person reaches the helper (step 12g)' 'PASS'
  } else {
    Report 'indicator: Disconnect clicked by a person reaches the helper (step 12g)' 'INCONCLUSIVE' 'nobody clicked in time'
  }
} catch {
  Report 'indicator window (step 12g)' 'FAIL' $_.Exception.Message
} finally {
  if (-not $indicatorProc.WaitForExit(5000)) { Stop-Process -Id $indicatorProc.Id -Force -ErrorAction SilentlyContinue }
}

# 12h. Blocking local input (access.blockLocalInput, issue 17 section 2): BlockInput through the helper's
#      own code (win32-local-input-block.ts), from this elevated process on the input desktop. Wine's
#      BlockInput is a stub, so only here can it be seen that (a) BlockInput(TRUE) succeeds elevated,
#      (b) the blocking thread's own SendInput still moves the pointer, (c) the tester's mouse does not
#      move it while blocked, and (d) after unblocking it does again. Ctrl+Alt+Del lifting the block
#      (its Remarks) is a manual check: press it during the 10 s and Esc back; the pointer then moves.
$blockCheck = Join-Path $work 'block-check.mjs'
$blockCheckSource = @"
import { createWin32LocalInputBlock } from '$distUrl/helper/input/win32-local-input-block.js';
import { createWin32InputInjector } from '$distUrl/helper/input/win32-input-injector.js';
import { user32 } from '$distUrl/native/win32/user32.js';
const lines = [];
const log = { debug: () => {}, info: (o, m) => lines.push(m), warn: (o, m) => lines.push('warn ' + m + ' ' + JSON.stringify(o)) };
const where = () => { const p = {}; user32().GetCursorPos(p); return { x: p.x, y: p.y }; };
const screen = { x: 0, y: 0, width: user32().GetSystemMetrics(0), height: user32().GetSystemMetrics(1) };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const injector = createWin32InputInjector({ log });
const block = createWin32LocalInputBlock(log);
const release = block.hold();
injector.pointerMove(screen, 0.75, 0.75);
await sleep(200);
const first = where();
injector.pointerMove(screen, 0.25, 0.25);
await sleep(200);
const injected = where();
await sleep(10_000);
const afterPerson = where();
release();
block.close();
await sleep(5000);
const afterUnblock = where();
injector.close();
console.log(JSON.stringify({ lines, first, injected, afterPerson, afterUnblock }));
"@
[IO.File]::WriteAllText($blockCheck, $blockCheckSource)
Write-Host 'Step 12h: keep moving the mouse for the next 15 s. The pointer jumps to the upper left (injected), must then stay put for 10 s (blocked), and follow your mouse for the last 5 s.' -ForegroundColor Yellow
try {
  $o = & $Node $blockCheck 2>&1 | Out-String
  $r = ($o.Trim() -split "`n")[-1] | ConvertFrom-Json
  Check 'BlockInput(TRUE) succeeds from an elevated process (step 12h)' {
    if (-not ($r.lines -contains 'local input blocked')) { throw ($r.lines -join '; ') }
    'blocked'
  }
  Check 'while blocked, the blocking thread still injects (step 12h)' {
    if (-not ($r.injected.x -lt $r.first.x -and $r.injected.y -lt $r.first.y)) { throw "SendInput did not move the pointer: $($r.first.x),$($r.first.y) then $($r.injected.x),$($r.injected.y)" }
    "pointer moved by SendInput from $($r.first.x),$($r.first.y) to $($r.injected.x),$($r.injected.y)"
  }
  if ($r.afterPerson.x -eq $r.injected.x -and $r.afterPerson.y -eq $r.injected.y) {
    if ($r.afterUnblock.x -ne $r.injected.x -or $r.afterUnblock.y -ne $r.injected.y) {
      Report 'the tester''s mouse is blocked, and moves again after unblocking (step 12h)' 'PASS'
    } else {
      Report 'the tester''s mouse is blocked (step 12h)' 'INCONCLUSIVE' 'the pointer never moved, also after unblocking: was the mouse moved?'
    }
  } else {
    Report 'the tester''s mouse is blocked (step 12h)' 'FAIL' "the pointer moved from $($r.injected.x),$($r.injected.y) to $($r.afterPerson.x),$($r.afterPerson.y) while blocked (or Ctrl+Alt+Del was pressed)"
  }
} catch {
  Report 'BlockInput (step 12h)' 'FAIL' $_.Exception.Message
}

# 12i. The session's sound (issue 20): WASAPI loopback of the default render endpoint through the
#      helper's own code (win32-wasapi-capture.ts), from this process in the tester's session, while
#      a 1 kHz tone plays through the default output (System.Media.SoundPlayer). Checks that the
#      loopback client opens (Initialize with AUTOCONVERTPCM to s16le 48 kHz stereo), that the tone's
#      samples arrive and come out at 1 kHz (zero crossings), and that close()
#      gives every COM reference back. Wine's mmdevapi could not show any of this (design/WINDOWS.md).
$toneWav = Join-Path $work 'tone-1khz.wav'
$audioCheck = Join-Path $work 'audio-check.mjs'
$audioCheckSource = @"
import { writeFileSync } from 'node:fs';
import { startWasapiCapture } from '$distUrl/helper/audio/win32-wasapi-capture.js';
import { liveComRefs } from '$distUrl/native/win32/com.js';
const n = 48000 * 3, data = Buffer.alloc(n * 4);
for (let i = 0; i < n; i++) { const v = Math.round(12000 * Math.sin(2 * Math.PI * 1000 * i / 48000)); data.writeInt16LE(v, i * 4); data.writeInt16LE(v, i * 4 + 2); }
const h = Buffer.alloc(44); h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVEfmt ', 8); h.writeUInt32LE(16, 16);
h.writeUInt16LE(1, 20); h.writeUInt16LE(2, 22); h.writeUInt32LE(48000, 24); h.writeUInt32LE(192000, 28); h.writeUInt16LE(4, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(data.length, 40);
writeFileSync(process.argv[2], Buffer.concat([h, data]));
const log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const before = liveComRefs();
const capture = startWasapiCapture({ log });
const frames = [];
capture.onPcm((c) => frames.push(c.data));
console.log('READY');
await new Promise((r) => setTimeout(r, 6000));
await capture.close();
const pcm = Buffer.concat(frames);
let loud = 0, crossings = 0, prev = 0;
for (let i = 0; i < pcm.length / 4; i++) { const v = pcm.readInt16LE(i * 4); if (Math.abs(v) > 2000) loud++; if ((prev < 0) !== (v < 0)) crossings++; prev = v; }
console.log(JSON.stringify({ bytes: pcm.length, loudSeconds: loud / 48000, hz: loud ? crossings / 2 / (pcm.length / 4 / 48000) : 0, leaked: liveComRefs() - before }));
"@
[IO.File]::WriteAllText($audioCheck, $audioCheckSource)
try {
  $p = Start-Process -FilePath $Node -ArgumentList @($audioCheck, $toneWav) -RedirectStandardOutput (Join-Path $work 'audio-check.out') -PassThru -NoNewWindow
  Start-Sleep -Seconds 2
  (New-Object System.Media.SoundPlayer $toneWav).PlaySync()
  $p.WaitForExit(20000) | Out-Null
  $r = (Get-Content (Join-Path $work 'audio-check.out'))[-1] | ConvertFrom-Json
  Check 'WASAPI loopback captures the default output (step 12i)' {
    if ($r.loudSeconds -lt 2) { throw "only $($r.loudSeconds) s of sound captured ($($r.bytes) bytes)" }
    "$($r.loudSeconds) s of sound, $($r.bytes) bytes"
  }
  Check 'the captured tone is 1 kHz, and close() leaks no COM reference (step 12i)' {
    if ([math]::Abs($r.hz - 1000) -gt 50 -or $r.leaked -ne 0) { throw "$($r.hz) Hz, $($r.leaked) references left" }
    "$([math]::Round($r.hz)) Hz"
  }
} catch {
  Report 'WASAPI loopback (step 12i)' 'FAIL' $_.Exception.Message
}

# 13. A real desktop through the API link, the service and the SYSTEM helper (issue 14): the viewer and
#     the API are stood in for by scripts\windows-vm-desktop.ts (the tests' WebSocket API and
#     node-datachannel offerer, run with tsx from the checkout), which the service connects to. It checks
#     H.264 frames, a click on Default, Ctrl+Alt+Del through the service (with SoftwareSASGeneration
#     removed, then at 1; restored afterwards) and a click on the Winlogon desktop of the locked
#     workstation. This step runs last: it leaves the workstation locked.
$viewerSteps = [ordered]@{
  'frames'     = 'a real desktop_start through the service receives H.264 frames'
  'click'      = 'an injected click moves the cursor on Default (GetCursorPos)'
  'sas-policy' = 'Ctrl+Alt+Del without SoftwareSASGeneration: the viewer is told the policy and how to set it'
  'sas'        = 'Ctrl+Alt+Del through the service brings up the secure desktop, and Escape closes it'
  'winlogon'   = 'an injected click moves the cursor on the Winlogon desktop (workstation locked)'
}
$viewerReady = Join-Path $work 'vm-desktop-ready.json'
$viewerResult = Join-Path $work 'vm-desktop-result.jsonl'
$viewerOut = Join-Path $work 'vm-desktop.out.log'
$viewerErr = Join-Path $work 'vm-desktop.err.log'
$tsx = Join-Path $root 'node_modules\tsx\dist\cli.mjs'
$viewerScript = Join-Path $root 'scripts\windows-vm-desktop.ts'
try {
  $viewer = Start-Process -FilePath $Node -WorkingDirectory $root -PassThru -NoNewWindow `
    -RedirectStandardOutput $viewerOut -RedirectStandardError $viewerErr `
    -ArgumentList @("`"$tsx`"", "`"$viewerScript`"", "`"$viewerReady`"", "`"$viewerResult`"", "`"$logDir`"", "$consoleSession")
  WaitUntil 'the viewer script to listen' { (Test-Path $viewerReady) -and ((Get-Item $viewerReady).Length -gt 0) }
  $api = Get-Content -Raw $viewerReady | ConvertFrom-Json
  $desktopConfig = Join-Path $work 'porthole-desktop.json'
  @{ logLevel = 'debug'; api = @{ url = $api.url; deviceId = $api.deviceId; token = $api.token }; helper = @{ args = @('--log-level', 'debug') } } |
    ConvertTo-Json -Depth 4 | Set-Content -Encoding ascii $desktopConfig
  Porthole @('service', 'install', '--name', $ServiceName, '--config', $desktopConfig, '--log-dir', $logDir) | Out-Null
  Porthole @('service', 'start', '--name', $ServiceName) | Out-Null
  if (-not $viewer.WaitForExit(300000)) {
    Stop-Process -Id $viewer.Id -Force -ErrorAction SilentlyContinue
    throw "the viewer script did not finish within 5 minutes (see $viewerOut)"
  }
  $results = @(Get-Content $viewerResult -ErrorAction SilentlyContinue | ForEach-Object { $_ | ConvertFrom-Json })
  $setup = $results | Where-Object { $_.step -eq 'setup' } | Select-Object -First 1
  foreach ($key in $viewerSteps.Keys) {
    $r = $results | Where-Object { $_.step -eq $key } | Select-Object -First 1
    if ($r) { Report $viewerSteps[$key] $r.result $r.detail }
    elseif ($setup) { Report $viewerSteps[$key] 'FAIL' "not reached: $($setup.detail)" }
    else { Report $viewerSteps[$key] 'FAIL' "no result (see $viewerOut and $viewerErr)" }
  }
  Check 'service.log: the service sent Ctrl+Alt+Del into the console session' {
    $sent = @(LogLines | Where-Object { $_.msg -eq 'Ctrl+Alt+Del sent (SendSAS)' -and $_.sessionId -eq $consoleSession })
    if ($sent.Count -eq 0) { throw 'no "Ctrl+Alt+Del sent (SendSAS)" line for the console session' }
    "$($sent.Count) sent"
  }
} catch {
  Report 'a real desktop through the service (viewer script)' 'FAIL' $_.Exception.Message
} finally {
  & $Node $porthole service uninstall --name $ServiceName 2>&1 | Out-Null
}
Write-Host 'Step 13 locked the workstation: unlock it.' -ForegroundColor Yellow

Write-Host ''
Write-Host ("{0} failure(s). Logs: {1}" -f $script:failures, $logDir)
exit $script:failures
