// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // The same executable is the isolated text-extraction worker (PDF, OCR, .doc/.xls).
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__extract") {
        std::process::exit(vanthu_app::extraction::worker_main(&args[2..]));
    }
    vanthu_desktop::run();
}
