// The porthole desktop viewer: one window showing the bundled viewer (dist/viewer). The viewer
// uses no Tauri commands, so no capabilities or plugins are granted: the webview is just a browser.

// No console window next to the viewer on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .setup(|_app| {
            // WebView2 (Windows) and WKWebView (macOS) have WebRTC on. WebKitGTK has it off by
            // default, and getUserMedia-style media streams too: without both the viewer finds
            // no RTCPeerConnection and cannot connect.
            #[cfg(target_os = "linux")]
            {
                use tauri::Manager;
                let window = _app
                    .get_webview_window("main")
                    .expect("tauri.conf.json defines the window labelled main");
                window.with_webview(|webview| {
                    use webkit2gtk::{SettingsExt, WebViewExt};
                    if let Some(settings) = webview.inner().settings() {
                        settings.set_enable_webrtc(true);
                        settings.set_enable_media_stream(true);
                    }
                })?;
            }
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the porthole viewer window failed to start");
}
