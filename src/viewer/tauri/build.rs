// Generates the context (config, embedded dist/viewer assets, CSP) that tauri::generate_context! reads.
fn main() {
    tauri_build::build()
}
