#!/usr/bin/python3
"""Drives one WebKitGTK (WebKit2 4.1, what Tauri runs on Linux) window for the e2e tests.

Usage: /usr/bin/python3 webkitgtk-driver.py WIDTH HEIGHT   (on the X display in $DISPLAY; the caller starts the Xvfb)

Reads one JSON command per line on stdin and answers each with one JSON line on stdout:
  {"id": 1, "op": "load", "url": "http://..."}      -> {"id": 1, "ok": true} once WebKit says the load
     finished (it shows an error page for some failures, e.g. a refused connection, and calls that finished)
  {"id": 2, "op": "eval", "js": "return 1 + 1"}      -> {"id": 2, "ok": true, "value": 2}
     (the body of an async function: it may `await`; the value must be JSON-serialisable)
  {"id": 3, "op": "window"}                          -> {"id": 3, "ok": true, "value": {"x":..,"y":..}}
     (where the web view's top left sits on the X screen, for xdotool)
  {"id": 4, "op": "quit"}
Failures answer {"id": n, "ok": false, "error": "..."}. Every command has a time limit; the process
exits when stdin closes. It prints {"ready": true, "webkit": "<version>"} first.
"""
import json
import sys
import threading

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402

COMMAND_TIMEOUT_S = 30


def reply(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def main():
    width, height = int(sys.argv[1]), int(sys.argv[2])
    window = Gtk.Window()
    window.set_decorated(False)
    window.set_default_size(width, height)
    window.move(0, 0)
    view = WebKit2.WebView()
    settings = view.get_settings()
    settings.set_enable_webrtc(True)  # asked for; Debian's build still has no RTCPeerConnection
    settings.set_enable_media_stream(True)
    settings.set_enable_developer_extras(True)
    window.add(view)
    window.connect("destroy", lambda *_: Gtk.main_quit())
    window.show_all()

    live = set()  # ids of the commands not answered yet
    pending_load = {}  # the id of the load command still waiting for LOAD_FINISHED

    def on_load_changed(_view, event):
        if event == WebKit2.LoadEvent.FINISHED and "id" in pending_load:
            finish(pending_load.pop("id"), {"ok": True})

    def on_load_failed(_view, _event, uri, error):
        if "id" in pending_load:
            finish(pending_load.pop("id"), {"ok": False, "error": f"load {uri}: {error.message}"})
        return False

    view.connect("load-changed", on_load_changed)
    view.connect("load-failed", on_load_failed)

    def with_timeout(cmd_id, what):
        def expire():
            if pending_load.get("id") == cmd_id:
                pending_load.pop("id")
            if cmd_id in live:
                live.discard(cmd_id)
                reply({"id": cmd_id, "ok": False, "error": f"{what} timed out after {COMMAND_TIMEOUT_S} s"})
            return False

        live.add(cmd_id)
        GLib.timeout_add_seconds(COMMAND_TIMEOUT_S, expire)

    def finish(cmd_id, msg):
        if cmd_id in live:
            live.discard(cmd_id)
            reply({"id": cmd_id, **msg})

    def run(cmd):
        cmd_id = cmd.get("id")
        op = cmd.get("op")
        try:
            if op == "load":
                pending_load["id"] = cmd_id
                with_timeout(cmd_id, "load")
                view.load_uri(cmd["url"])
            elif op == "eval":
                with_timeout(cmd_id, "eval")

                def done(v, res):
                    try:
                        value = v.call_async_javascript_function_finish(res)
                        text = value.to_json(0) if value is not None and not value.is_undefined() else None
                        finish(cmd_id, {"ok": True, "value": json.loads(text) if text else None})
                    except GLib.Error as e:
                        finish(cmd_id, {"ok": False, "error": e.message})

                view.call_async_javascript_function(cmd["js"], -1, None, None, None, None, done)
            elif op == "window":
                x, y = view.get_window().get_origin()[1:]
                reply({"id": cmd_id, "ok": True, "value": {"x": x, "y": y}})
            elif op == "quit":
                reply({"id": cmd_id, "ok": True})
                Gtk.main_quit()
            else:
                reply({"id": cmd_id, "ok": False, "error": f"unknown op {op!r}"})
        except Exception as e:  # noqa: BLE001 - every failure becomes an answer
            reply({"id": cmd_id, "ok": False, "error": f"{type(e).__name__}: {e}"})
        return False

    def read_stdin():
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                cmd = json.loads(line)
            except ValueError as e:
                reply({"ok": False, "error": f"bad command: {e}"})
                continue
            GLib.idle_add(run, cmd)
        GLib.idle_add(Gtk.main_quit)

    threading.Thread(target=read_stdin, daemon=True).start()
    reply(
        {
            "ready": True,
            "webkit": f"{WebKit2.get_major_version()}.{WebKit2.get_minor_version()}.{WebKit2.get_micro_version()}",
        }
    )
    Gtk.main()


if __name__ == "__main__":
    main()
