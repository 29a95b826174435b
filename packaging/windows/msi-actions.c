/*
 * The MSI's custom actions (a DLL in the package's Binary table, never installed). wixl has no WiX util
 * extension, and the service's settings (failure actions and their flag, the data folder's DACL) are
 * made by porthole itself, so the installer runs the bundled `porthole` for them. A DLL rather than an
 * EXE custom action because only a DLL can read CustomActionData (how a deferred action gets the
 * enrollment key without it ever being on a command line), and it copies the commands' output into the
 * installer's log, where an administrator looks when a deployment fails.
 *
 * Each entry point is a deferred action whose CustomActionData is fields separated by '|' ('|' cannot
 * be in a Windows path; the enrollment key, last, may hold anything):
 *   RunPorthole       INSTALLDIR|arg|arg...            runs porthole with the args; fails on exit != 0
 *   RunPortholeQuiet  INSTALLDIR|arg|arg...            the same, never fails (rollback actions)
 *   EnrollPorthole    INSTALLDIR|CONFIG|URL|FORCE|KEY
 *                     runs `porthole service enroll --server URL --config CONFIG [--force]` with the
 *                     key in the child's PORTHOLE_ENROLL_KEY only; skipped without URL and KEY; its
 *                     exit code 3 (already enrolled, nothing changed) is not a failure
 *   StartPorthole     INSTALLDIR|CONFIG                `porthole service start` when CONFIG exists
 *   StopServiceAndWait NAME                            stops the service and waits for its process to
 *                                                      exit, never fails (before StopServices: that one
 *                                                      waits for SERVICE_STOPPED only, and node.exe may
 *                                                      still be running, its file in use, when
 *                                                      RemoveFiles comes: it would be left for a reboot)
 *   DeleteServiceQuiet NAME                            stops and deletes the service through the SCM
 *                                                      itself, never fails (the install's rollback:
 *                                                      node.exe may be gone by then, as under Wine)
 *   RemoveDataDir     DIR                              deletes DIR (…\porthole) and what it holds,
 *                                                      never following a link or junction
 * Built by scripts/package-win.ts with mingw-w64: x86_64-w64-mingw32-gcc -shared ... -lmsi
 */
#define WIN32_LEAN_AND_MEAN
#ifndef UNICODE
#define UNICODE
#endif
#include <windows.h>
#include <msi.h>
#include <msiquery.h>
#include <stdlib.h>
#include <wchar.h>

#define MAX_FIELDS 32
#define MAX_CMDLINE 32767

/* One line in the installer's log (msiexec /l*v), prefixed so that it is easy to find. */
static void log_line(MSIHANDLE h, const wchar_t *text) {
  MSIHANDLE rec = MsiCreateRecord(1);
  if (!rec) return;
  /* Field 0 is a format template: the text goes in as field 1's value, which is never re-formatted. */
  MsiRecordSetStringW(rec, 0, L"porthole: [1]");
  MsiRecordSetStringW(rec, 1, text);
  MsiProcessMessage(h, INSTALLMESSAGE_INFO, rec);
  MsiCloseHandle(rec);
}

static void log_fmt(MSIHANDLE h, const wchar_t *fmt, const wchar_t *a, unsigned long n) {
  wchar_t buf[2048];
  _snwprintf(buf, 2047, fmt, a, n);
  buf[2047] = 0;
  log_line(h, buf);
}

/* CustomActionData, allocated (free with wipe_free); NULL on failure. */
static wchar_t *custom_action_data(MSIHANDLE h, DWORD *len_out) {
  DWORD len = 0;
  wchar_t empty[1] = L"";
  UINT rc = MsiGetPropertyW(h, L"CustomActionData", empty, &len);
  if (rc != ERROR_MORE_DATA && rc != ERROR_SUCCESS) return NULL;
  len += 1;
  wchar_t *buf = calloc(len, sizeof(wchar_t));
  if (!buf) return NULL;
  if (MsiGetPropertyW(h, L"CustomActionData", buf, &len) != ERROR_SUCCESS) {
    free(buf);
    return NULL;
  }
  *len_out = len;
  return buf;
}

static void wipe_free(wchar_t *buf, DWORD len) {
  if (!buf) return;
  SecureZeroMemory(buf, len * sizeof(wchar_t));
  free(buf);
}

/* Splits in place on '|' into at most `max` fields (the last keeps any further '|'). */
static int split_fields(wchar_t *data, wchar_t **fields, int max) {
  int n = 0;
  wchar_t *p = data;
  fields[n++] = p;
  while (*p && n < max) {
    if (*p == L'|') {
      *p = 0;
      fields[n++] = p + 1;
    }
    p++;
  }
  return n;
}

/* Appends `arg` to `cmd` quoted for CommandLineToArgvW (backslashes doubled before a quote). */
static BOOL append_arg(wchar_t *cmd, size_t cap, const wchar_t *arg) {
  size_t at = wcslen(cmd);
  if (at > 0) {
    if (at + 1 >= cap) return FALSE;
    cmd[at++] = L' ';
  }
  if (at + 1 >= cap) return FALSE;
  cmd[at++] = L'"';
  for (const wchar_t *p = arg;; p++) {
    size_t slashes = 0;
    while (*p == L'\\') {
      slashes++;
      p++;
    }
    size_t reps = (*p == 0) ? slashes * 2 : (*p == L'"') ? slashes * 2 + 1 : slashes;
    if (at + reps + 3 >= cap) return FALSE;
    for (size_t i = 0; i < reps; i++) cmd[at++] = L'\\';
    if (*p == 0) break;
    cmd[at++] = *p;
  }
  cmd[at++] = L'"';
  cmd[at] = 0;
  return TRUE;
}

/* Copies the child's output, line by line, into the log. */
static void pump_output(MSIHANDLE h, HANDLE read_end) {
  char chunk[4096];
  char line[4096];
  size_t used = 0;
  DWORD got;
  while (ReadFile(read_end, chunk, sizeof chunk, &got, NULL) && got > 0) {
    for (DWORD i = 0; i < got; i++) {
      char c = chunk[i];
      if (c == '\n' || used == sizeof line - 1) {
        if (used > 0 && line[used - 1] == '\r') used--;
        line[used] = 0;
        wchar_t wide[4096];
        int n = MultiByteToWideChar(CP_UTF8, 0, line, -1, wide, 4096);
        if (n > 0) log_line(h, wide);
        used = 0;
        if (c == '\n') continue;
      }
      line[used++] = c;
    }
  }
  if (used > 0) {
    line[used] = 0;
    wchar_t wide[4096];
    if (MultiByteToWideChar(CP_UTF8, 0, line, -1, wide, 4096) > 0) log_line(h, wide);
  }
}

/*
 * Runs `<dir>node.exe <dir>bin\porthole.js args...` with its output in the log; returns its exit code,
 * or -1 when it could not be started. `key`, when given, is set as PORTHOLE_ENROLL_KEY in this
 * process's environment only while CreateProcessW copies it into the child's, then removed.
 */
static long run_porthole(MSIHANDLE h, const wchar_t *dir, wchar_t **args, int nargs, const wchar_t *key) {
  static wchar_t cmd[MAX_CMDLINE];
  wchar_t node[MAX_PATH * 2], script[MAX_PATH * 2];
  size_t dlen = wcslen(dir);
  const wchar_t *sep = (dlen > 0 && dir[dlen - 1] == L'\\') ? L"" : L"\\";
  _snwprintf(node, MAX_PATH * 2 - 1, L"%ls%lsnode.exe", dir, sep);
  node[MAX_PATH * 2 - 1] = 0;
  _snwprintf(script, MAX_PATH * 2 - 1, L"%ls%lsbin\\porthole.js", dir, sep);
  script[MAX_PATH * 2 - 1] = 0;
  cmd[0] = 0;
  if (!append_arg(cmd, MAX_CMDLINE, node) || !append_arg(cmd, MAX_CMDLINE, script)) return -1;
  for (int i = 0; i < nargs; i++)
    if (!append_arg(cmd, MAX_CMDLINE, args[i])) return -1;
  /* The command line never holds a secret (the key goes through the environment): log it. */
  log_fmt(h, L"running %ls", cmd, 0);

  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
  HANDLE rd = NULL, wr = NULL;
  if (!CreatePipe(&rd, &wr, &sa, 0)) return -1;
  SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
  HANDLE nul = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING, 0, NULL);
  STARTUPINFOW si;
  ZeroMemory(&si, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = nul;
  si.hStdOutput = wr;
  si.hStdError = wr;
  PROCESS_INFORMATION pi;
  ZeroMemory(&pi, sizeof pi);
  if (key) SetEnvironmentVariableW(L"PORTHOLE_ENROLL_KEY", key);
  DWORD dattr = GetFileAttributesW(dir);
  BOOL ok = CreateProcessW(node, cmd, NULL, NULL, TRUE, CREATE_NO_WINDOW | CREATE_UNICODE_ENVIRONMENT, NULL,
                           dattr != INVALID_FILE_ATTRIBUTES ? dir : NULL, &si, &pi);
  DWORD err = GetLastError();
  if (key) SetEnvironmentVariableW(L"PORTHOLE_ENROLL_KEY", NULL);
  CloseHandle(wr);
  if (nul != INVALID_HANDLE_VALUE) CloseHandle(nul);
  if (!ok) {
    CloseHandle(rd);
    log_fmt(h, L"could not start %ls: error %lu", node, err);
    return -1;
  }
  pump_output(h, rd);
  CloseHandle(rd);
  WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = 1;
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  log_fmt(h, L"%lsexit code %lu", L"", code);
  return (long)code;
}

static UINT run_from_data(MSIHANDLE h, BOOL quiet) {
  DWORD len = 0;
  wchar_t *data = custom_action_data(h, &len);
  if (!data) {
    log_line(h, L"no CustomActionData");
    return quiet ? ERROR_SUCCESS : ERROR_INSTALL_FAILURE;
  }
  wchar_t *f[MAX_FIELDS];
  int n = split_fields(data, f, MAX_FIELDS);
  long code = run_porthole(h, f[0], f + 1, n - 1, NULL);
  wipe_free(data, len);
  if (code == 0 || quiet) return ERROR_SUCCESS;
  return ERROR_INSTALL_FAILURE;
}

__declspec(dllexport) UINT __stdcall RunPorthole(MSIHANDLE h) { return run_from_data(h, FALSE); }

__declspec(dllexport) UINT __stdcall RunPortholeQuiet(MSIHANDLE h) { return run_from_data(h, TRUE); }

static BOOL file_exists(const wchar_t *path) {
  DWORD a = GetFileAttributesW(path);
  return a != INVALID_FILE_ATTRIBUTES && !(a & FILE_ATTRIBUTE_DIRECTORY);
}

/* `porthole service enroll`'s exit code when the machine is enrolled already (src/cli/service-enroll.ts). */
#define EXIT_ALREADY_ENROLLED 3

__declspec(dllexport) UINT __stdcall EnrollPorthole(MSIHANDLE h) {
  DWORD len = 0;
  wchar_t *data = custom_action_data(h, &len);
  if (!data) {
    log_line(h, L"enroll: no CustomActionData");
    return ERROR_INSTALL_FAILURE;
  }
  wchar_t *f[5];
  UINT result = ERROR_SUCCESS;
  if (split_fields(data, f, 5) < 5) {
    log_line(h, L"enroll: malformed CustomActionData");
    result = ERROR_INSTALL_FAILURE;
  } else {
    const wchar_t *dir = f[0], *config = f[1], *url = f[2], *key = f[4];
    BOOL force = wcscmp(f[3], L"1") == 0;
    if (url[0] == 0 && key[0] == 0) {
      log_line(h, L"enroll: SERVER_URL and ENROLL_KEY not given; enroll later with `porthole service enroll`");
    } else if (url[0] == 0 || key[0] == 0) {
      log_line(h, L"enroll: SERVER_URL and ENROLL_KEY go together; one of them is missing");
      result = ERROR_INSTALL_FAILURE;
    } else {
      wchar_t *args[8] = {L"service", L"enroll", L"--server", (wchar_t *)url, L"--config", (wchar_t *)config};
      int n = 6;
      if (force) args[n++] = L"--force";
      long code = run_porthole(h, dir, args, n, key);
      if (code == EXIT_ALREADY_ENROLLED) {
        log_line(h, L"enroll: already enrolled, kept as it is (ENROLL_FORCE=1 enrolls again as a new device)");
      } else if (code != 0) {
        log_line(h, L"enroll: failed (see the lines above); the installation is rolled back");
        result = ERROR_INSTALL_FAILURE;
      }
    }
  }
  wipe_free(data, len);
  return result;
}

__declspec(dllexport) UINT __stdcall StartPorthole(MSIHANDLE h) {
  DWORD len = 0;
  wchar_t *data = custom_action_data(h, &len);
  if (!data) return ERROR_INSTALL_FAILURE;
  wchar_t *f[2];
  UINT result = ERROR_SUCCESS;
  if (split_fields(data, f, 2) < 2) {
    result = ERROR_INSTALL_FAILURE;
  } else if (!file_exists(f[1])) {
    log_fmt(h,
            L"start: %ls does not exist: the service stays stopped until it is enrolled "
            L"(porthole service enroll, then porthole service start)",
            f[1], 0);
  } else {
    wchar_t *args[2] = {L"service", L"start"};
    if (run_porthole(h, f[0], args, 2, NULL) != 0) result = ERROR_INSTALL_FAILURE;
  }
  wipe_free(data, len);
  return result;
}

/* Deletes `path` (a folder) and everything below it; a link or junction is removed, never entered. */
static BOOL remove_tree(MSIHANDLE h, const wchar_t *path) {
  DWORD attrs = GetFileAttributesW(path);
  if (attrs == INVALID_FILE_ATTRIBUTES) return GetLastError() == ERROR_FILE_NOT_FOUND;
  if (!(attrs & FILE_ATTRIBUTE_DIRECTORY) || (attrs & FILE_ATTRIBUTE_REPARSE_POINT)) {
    SetFileAttributesW(path, FILE_ATTRIBUTE_NORMAL);
    BOOL ok = (attrs & FILE_ATTRIBUTE_DIRECTORY) ? RemoveDirectoryW(path) : DeleteFileW(path);
    if (!ok) log_fmt(h, L"remove-data: cannot delete %ls (error %lu)", path, GetLastError());
    return ok;
  }
  size_t plen = wcslen(path);
  wchar_t *pattern = malloc((plen + 3) * sizeof(wchar_t));
  if (!pattern) return FALSE;
  _snwprintf(pattern, plen + 3, L"%ls\\*", path);
  pattern[plen + 2] = 0;
  WIN32_FIND_DATAW fd;
  HANDLE find = FindFirstFileW(pattern, &fd);
  free(pattern);
  BOOL ok = TRUE;
  if (find != INVALID_HANDLE_VALUE) {
    do {
      if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0) continue;
      size_t n = plen + wcslen(fd.cFileName) + 2;
      wchar_t *child = malloc(n * sizeof(wchar_t));
      if (!child) {
        ok = FALSE;
        break;
      }
      _snwprintf(child, n, L"%ls\\%ls", path, fd.cFileName);
      child[n - 1] = 0;
      if (!remove_tree(h, child)) ok = FALSE;
      free(child);
    } while (FindNextFileW(find, &fd));
    FindClose(find);
  }
  if (!RemoveDirectoryW(path)) {
    log_fmt(h, L"remove-data: cannot delete %ls (error %lu)", path, GetLastError());
    ok = FALSE;
  }
  return ok;
}

__declspec(dllexport) UINT __stdcall RemoveDataDir(MSIHANDLE h) {
  DWORD len = 0;
  wchar_t *dir = custom_action_data(h, &len);
  if (!dir) return ERROR_SUCCESS;
  /* Strip one trailing backslash; refuse anything but a folder named porthole (never a drive root). */
  size_t n = wcslen(dir);
  if (n > 0 && dir[n - 1] == L'\\') dir[--n] = 0;
  const wchar_t *base = wcsrchr(dir, L'\\');
  if (!base || _wcsicmp(base + 1, L"porthole") != 0 || base - dir < 3) {
    log_fmt(h, L"remove-data: refusing to delete '%ls' (not a ...\\porthole folder)", dir, 0);
  } else if (remove_tree(h, dir)) {
    log_fmt(h, L"remove-data: %ls deleted", dir, 0);
  } else {
    /* Data left behind must not fail an uninstall that already removed the program. */
    log_fmt(h, L"remove-data: %ls only partly deleted", dir, 0);
  }
  wipe_free(dir, len);
  return ERROR_SUCCESS;
}

__declspec(dllexport) UINT __stdcall DeleteServiceQuiet(MSIHANDLE h) {
  DWORD len = 0;
  wchar_t *name = custom_action_data(h, &len);
  if (!name || !name[0]) {
    wipe_free(name, len);
    return ERROR_SUCCESS;
  }
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  SC_HANDLE svc = scm ? OpenServiceW(scm, name, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE) : NULL;
  if (!svc) {
    log_fmt(h, L"rollback: service %ls not found (error %lu)", name, GetLastError());
  } else {
    SERVICE_STATUS st;
    if (ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
      for (int i = 0; i < 150 && QueryServiceStatus(svc, &st) && st.dwCurrentState != SERVICE_STOPPED; i++)
        Sleep(200);
    }
    if (DeleteService(svc))
      log_fmt(h, L"rollback: service %ls deleted", name, 0);
    else
      log_fmt(h, L"rollback: service %ls not deleted (error %lu)", name, GetLastError());
    CloseServiceHandle(svc);
  }
  if (scm) CloseServiceHandle(scm);
  wipe_free(name, len);
  return ERROR_SUCCESS;
}

__declspec(dllexport) UINT __stdcall StopServiceAndWait(MSIHANDLE h) {
  DWORD len = 0;
  wchar_t *name = custom_action_data(h, &len);
  if (!name || !name[0]) {
    wipe_free(name, len);
    return ERROR_SUCCESS;
  }
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  SC_HANDLE svc = scm ? OpenServiceW(scm, name, SERVICE_STOP | SERVICE_QUERY_STATUS) : NULL;
  SERVICE_STATUS_PROCESS sp;
  DWORD needed = 0;
  if (svc && QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)&sp, sizeof sp, &needed) &&
      sp.dwCurrentState != SERVICE_STOPPED && sp.dwProcessId != 0) {
    /* Opened before the stop: once it has exited, the pid could name another process. */
    HANDLE proc = OpenProcess(SYNCHRONIZE, FALSE, sp.dwProcessId);
    SERVICE_STATUS st;
    if (!ControlService(svc, SERVICE_CONTROL_STOP, &st) && GetLastError() != ERROR_SERVICE_NOT_ACTIVE)
      log_fmt(h, L"stop: service %ls did not take the stop (error %lu)", name, GetLastError());
    if (proc) {
      DWORD wait = WaitForSingleObject(proc, 30000);
      log_fmt(h, wait == WAIT_OBJECT_0 ? L"stop: the process of service %ls has exited (pid %lu)"
                                       : L"stop: the process of service %ls is still running after 30 s (pid %lu)",
              name, sp.dwProcessId);
      CloseHandle(proc);
    } else {
      log_fmt(h, L"stop: cannot wait for the process of service %ls (error %lu)", name, GetLastError());
    }
  }
  if (svc) CloseServiceHandle(svc);
  if (scm) CloseServiceHandle(scm);
  wipe_free(name, len);
  return ERROR_SUCCESS;
}
