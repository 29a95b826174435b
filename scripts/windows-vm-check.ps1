<#
.SYNOPSIS
  Checks on a real Windows 10/11 machine what Wine cannot show: the porthole service installed,
  running as LocalSystem in session 0, a helper spawned into the console user's session, the
  helper pipe's DACL refusing a non-admin user, the Event Log entries, then stop and uninstall.

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
  [int]$TimeoutSeconds = 60
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
Check 'service install (created)' {
  $o = Porthole @('service', 'install', '--name', $ServiceName, '--config', $config, '--log-dir', $logDir)
  if ($o -ne "${ServiceName}: created") { throw "got '$o'" }
  $o
}
Check 'service install again (updated, idempotent)' {
  $o = Porthole @('service', 'install', '--name', $ServiceName, '--config', $config, '--log-dir', $logDir)
  if ($o -ne "${ServiceName}: updated") { throw "got '$o'" }
  $o
}
Check 'status: stopped, auto start, LocalSystem, quoted ImagePath, restart after 5 s x3' {
  $s = Porthole @('service', 'status', '--name', $ServiceName, '--json') | ConvertFrom-Json
  if ($s.state -ne 'stopped') { throw "state $($s.state)" }
  if ($s.startType -ne 'auto') { throw "start type $($s.startType)" }
  if ($s.account -ne 'LocalSystem') { throw "account $($s.account)" }
  if (-not $s.binaryPath.StartsWith('"' + $Node + '" "' + $porthole + '"')) { throw "ImagePath $($s.binaryPath)" }
  if (($s.restartDelaysMs -join ',') -ne '5000,5000,5000') { throw "failure actions $($s.restartDelaysMs -join ',')" }
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

Write-Host ''
Write-Host ("{0} failure(s). Logs: {1}" -f $script:failures, $logDir)
exit $script:failures
