fn main() {
    // `list_incoming` is an app command: declaring it generates the `allow-list-incoming`
    // permission that capabilities/default.json grants to the main window.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "list_incoming",
            "search_incoming",
            "index_status",
            "exchange_status",
            "mark_notifications_read",
        ]),
    ))
    .expect("tauri-build failed");
}
