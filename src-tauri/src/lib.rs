//! vanthu desktop shell: a thin Tauri 2 layer over the `vanthu-app` use cases.
//!
//! Everything the window shows comes through [`vanthu_app::App`], the same use-case layer as the
//! `vanthu` command line; this crate only locates the store, opens it once and turns results
//! and errors into JSON for the web view. [`app_builder`] registers the commands and the
//! managed state so that tests can drive the same wiring through `tauri::test::mock_builder()`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use vanthu_app::extraction::WorkerConfig;
use vanthu_app::{demo, App, AppError};
use vanthu_core::notation::format_number;
use vanthu_store::{IncomingRow, KdfParams, KeyFile, Passphrase};

/// Where the window's store lives and how to open it.
pub struct StoreLocation {
    /// The data folder.
    pub dir: PathBuf,
    /// Its passphrase (`None`: not given, reported in the window).
    pub passphrase: Option<Passphrase>,
    /// Whether this is the demo store, created and seeded when missing.
    pub demo: bool,
    /// The isolated text-extraction worker (this executable's `__extract` mode; `None` in
    /// tests, where the executable is a test harness: PDFs and scans then wait).
    pub extract_worker: Option<WorkerConfig>,
}

impl StoreLocation {
    /// `VANTHU_DATA` (with `VANTHU_PASSPHRASE`) when set, otherwise the demo store in the
    /// platform's local data folder (`~/.local/share/vanthu/demo`, `%LOCALAPPDATA%\vanthu\demo`)
    /// with `VANTHU_PASSPHRASE` or the demo passphrase, exactly as `vanthu demo` does.
    pub fn from_env() -> StoreLocation {
        let pass = std::env::var("VANTHU_PASSPHRASE").ok().map(Passphrase::new);
        match std::env::var_os("VANTHU_DATA").filter(|d| !d.is_empty()) {
            Some(dir) => StoreLocation {
                dir: PathBuf::from(dir),
                passphrase: pass,
                demo: false,
                extract_worker: None,
            },
            None => StoreLocation::demo_in(
                dirs::data_local_dir()
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join("vanthu")
                    .join("demo"),
            ),
        }
        .with_worker(WorkerConfig::current_exe().map(|w| w.with_env_overrides()))
    }

    /// Sets the extraction worker.
    pub fn with_worker(mut self, worker: Option<WorkerConfig>) -> StoreLocation {
        self.extract_worker = worker;
        self
    }

    /// The demo store in `dir` (created and seeded on first use).
    pub fn demo_in(dir: PathBuf) -> StoreLocation {
        let pass = std::env::var("VANTHU_PASSPHRASE")
            .unwrap_or_else(|_| demo::DEMO_PASSPHRASE.to_string());
        StoreLocation {
            dir,
            passphrase: Some(Passphrase::new(pass)),
            demo: true,
            extract_worker: None,
        }
    }

    fn open(&self) -> Result<App, AppError> {
        let Some(pass) = &self.passphrase else {
            return Err(AppError::BadInput(format!(
                "Cần mật khẩu kho {}: đặt biến VANTHU_PASSPHRASE trước khi mở ứng dụng (passphrase needed: set VANTHU_PASSPHRASE)",
                self.dir.display()
            )));
        };
        let worker = self.extract_worker.clone();
        if self.demo && !self.dir.join(KeyFile::NAME).exists() {
            let mut app = App::init(&self.dir, pass, &demo::demo_agency(), KdfParams::default())?;
            app.set_extract_worker(worker);
            demo::seed(&mut app)?;
            return Ok(app);
        }
        let mut app = App::open(&self.dir, pass)?;
        // PDFs, scans and legacy Office files are read by this executable's `__extract` mode
        // in a separate, bounded process (see `main.rs`).
        app.set_extract_worker(worker);
        Ok(app)
    }
}

/// Managed state: the store location and, once opened, the store.
pub struct Desktop {
    location: Arc<StoreLocation>,
    app: Arc<Mutex<Option<App>>>,
    indexing: Arc<IndexProgress>,
    exchange: Arc<ExchangeProgress>,
    sync_interval: std::time::Duration,
}

/// The background exchange with the national axis: its own connection to the store (a slow
/// network never holds the window's), one `sync_once` every interval while an axis account is
/// configured.
#[derive(Debug, Default)]
pub struct ExchangeProgress {
    started: AtomicBool,
    state: Mutex<ExchangeState>,
}

/// What the window shows of the exchange.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExchangeState {
    /// An axis account is configured (`vanthu axis config`).
    pub configured: bool,
    /// A sync is running now.
    pub running: bool,
    /// When the last sync ended (RFC 3339).
    pub last_sync_at: Option<String>,
    /// Documents and statuses received since the window opened.
    pub received: u64,
    /// Packages sent since the window opened.
    pub sent: u64,
    /// The last sync's first failure, Vietnamese first (`None` when it went through).
    pub last_error: Option<String>,
    /// The last sync's warnings (a clock far from the axis's).
    pub warnings: Vec<String>,
}

/// The answer of `exchange_status`: the exchange and the unread notifications.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeView {
    /// The background exchange.
    #[serde(flatten)]
    pub state: ExchangeState,
    /// Unread notifications, newest first (at most 50).
    pub notifications: Vec<vanthu_app::notify::Notification>,
    /// How many are unread in all.
    pub unread: u64,
}

/// Seconds between two syncs of the background exchange (`VANTHU_SYNC_SECS`, default 120).
fn sync_interval() -> std::time::Duration {
    let secs = std::env::var("VANTHU_SYNC_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(120);
    std::time::Duration::from_secs(secs)
}

/// Progress of the background indexing job (text extraction and OCR included).
#[derive(Debug, Default)]
pub struct IndexProgress {
    started: AtomicBool,
    running: AtomicBool,
    done: AtomicU64,
    total: AtomicU64,
    error: Mutex<Option<String>>,
}

/// What `index_status` answers.
#[derive(Debug, Clone, Serialize)]
pub struct IndexStatus {
    /// The job is working.
    pub running: bool,
    /// Documents indexed so far in this run.
    pub done: u64,
    /// Documents this run found waiting.
    pub total: u64,
    /// Why the job stopped, if it failed (Vietnamese first).
    pub error: Option<String>,
}

/// Documents indexed per turn of the background job: the store is free for the window's
/// commands between turns (OCR of a scan takes seconds per page).
const INDEX_SLICE: u64 = 4;

impl Desktop {
    /// State for a store at `location`, opened on first use.
    pub fn new(location: StoreLocation) -> Desktop {
        Desktop {
            location: Arc::new(location),
            app: Arc::new(Mutex::new(None)),
            indexing: Arc::new(IndexProgress::default()),
            exchange: Arc::new(ExchangeProgress::default()),
            sync_interval: sync_interval(),
        }
    }

    /// Sets the time between two syncs of the background exchange.
    pub fn with_sync_interval(mut self, every: std::time::Duration) -> Desktop {
        self.sync_interval = every;
        self
    }

    /// Starts the background exchange (once per window). It opens its own connection to the
    /// store and, while no axis account is configured, only checks again each interval.
    fn start_exchange(&self) {
        if self.exchange.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let location = Arc::clone(&self.location);
        let p = Arc::clone(&self.exchange);
        let interval = self.sync_interval;
        std::thread::spawn(move || {
            let set = |f: &mut dyn FnMut(&mut ExchangeState)| {
                f(&mut p.state.lock().unwrap_or_else(|e| e.into_inner()))
            };
            let mut app = match location.open() {
                Ok(a) => a,
                Err(e) => {
                    set(&mut |s| s.last_error = Some(e.to_string()));
                    return;
                }
            };
            // The demo store made by `vanthu demo` talks to a local axis server beside it:
            // serve it again for as long as the window lives (its partner sends an invitation
            // the first time, which this exchange then receives and announces).
            let _demo_axis = match (&location.passphrase, location.demo) {
                (Some(pass), true) => vanthu_app::demo_exchange::resume(&location.dir, &app, pass)
                    .unwrap_or_else(|e| {
                        eprintln!("vanthu-desktop: demo axis server not resumed: {e}");
                        None
                    }),
                _ => None,
            };
            loop {
                let client = match app.axis_settings() {
                    Ok(Some(_)) => app.axis_client(),
                    Ok(None) => {
                        set(&mut |s| s.configured = false);
                        std::thread::sleep(interval);
                        continue;
                    }
                    Err(e) => Err(e),
                };
                set(&mut |s| {
                    s.configured = true;
                    s.running = true;
                });
                let outcome = client.and_then(|c| app.sync_once(&c));
                let now = vanthu_store::store::rfc3339(app.store().now());
                set(&mut |s| {
                    s.running = false;
                    s.last_sync_at = Some(now.clone());
                    match &outcome {
                        Ok(r) => {
                            s.received += r.received.len() as u64;
                            s.sent += r.sent.len() as u64;
                            s.last_error =
                                r.failed.first().map(|f| format!("{}: {}", f.what, f.error));
                            s.warnings = r.warnings.clone();
                        }
                        Err(e) => s.last_error = Some(e.to_string()),
                    }
                });
                std::thread::sleep(interval);
            }
        });
    }

    /// Starts the background job that brings the search index up to date (once per window):
    /// it takes the store a few documents at a time, so listing and searching stay responsive.
    fn start_indexing(&self) {
        if self.indexing.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let app = Arc::clone(&self.app);
        let p = Arc::clone(&self.indexing);
        p.running.store(true, Ordering::SeqCst);
        std::thread::spawn(move || {
            let base = AtomicU64::new(0);
            loop {
                let mut guard = app.lock().unwrap_or_else(|e| e.into_inner());
                let Some(app) = guard.as_mut() else { break };
                let step = (|| {
                    let left = app.unindexed_count()?;
                    if left == 0 {
                        return Ok(0);
                    }
                    let done0 = base.load(Ordering::SeqCst);
                    p.total.store(done0 + left, Ordering::SeqCst);
                    app.index_some(INDEX_SLICE, &mut |d, _| {
                        p.done.store(done0 + d, Ordering::SeqCst);
                    })
                })();
                drop(guard);
                match step {
                    Ok(0) => break,
                    Ok(n) => {
                        base.fetch_add(n, Ordering::SeqCst);
                    }
                    Err(e) => {
                        eprintln!("vanthu-desktop: background indexing stopped: {e}");
                        *p.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
                        break;
                    }
                }
            }
            p.running.store(false, Ordering::SeqCst);
        });
    }

    fn with_app<T>(
        &self,
        f: impl FnOnce(&mut App) -> Result<T, AppError>,
    ) -> Result<T, CommandError> {
        let mut guard = self.app.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(self.location.open()?);
        }
        Ok(f(guard.as_mut().expect("opened above"))?)
    }
}

/// An error as the window receives it: a stable code and a Vietnamese-first message.
#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    /// Stable ASCII code (`wrong_passphrase`, `no_store`, …).
    pub code: String,
    /// Message for the clerk, Vietnamese first, English in parentheses.
    pub message: String,
}

impl From<AppError> for CommandError {
    fn from(e: AppError) -> Self {
        CommandError {
            code: e.code().to_string(),
            message: e.to_string(),
        }
    }
}

/// One row of the register as the window shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterRow {
    /// The stored row, unchanged.
    #[serde(flatten)]
    pub row: IncomingRow,
    /// Số đến as printed (zero-padded below 10, as in the CLI).
    pub so_den_text: String,
    /// Ngày đến as dd/mm/yyyy.
    pub ngay_den_text: String,
}

/// The answer of `list_incoming`.
#[derive(Debug, Clone, Serialize)]
pub struct IncomingRegister {
    /// Name of the agency owning the store.
    pub agency: String,
    /// Its code.
    pub agency_code: String,
    /// Whether this is the demo store.
    pub demo: bool,
    /// The data folder.
    pub data_dir: String,
    /// The register, in register order.
    pub rows: Vec<RegisterRow>,
}

fn vn_date(rfc3339: &str) -> String {
    match (rfc3339.get(0..4), rfc3339.get(5..7), rfc3339.get(8..10)) {
        (Some(y), Some(m), Some(d)) => format!("{d}/{m}/{y}"),
        _ => rfc3339.to_string(),
    }
}

/// Lists the incoming register (all years) with the agency name.
#[tauri::command(async)]
fn list_incoming(state: tauri::State<'_, Desktop>) -> Result<IncomingRegister, CommandError> {
    state.with_app(|app| {
        let agency = app.agency()?;
        let rows = app
            .list_incoming(None)?
            .into_iter()
            .map(|row| RegisterRow {
                so_den_text: format_number(row.so_den),
                ngay_den_text: vn_date(&row.ngay_den),
                row,
            })
            .collect();
        state.start_indexing();
        state.start_exchange();
        Ok(IncomingRegister {
            agency: agency.name,
            agency_code: agency.code,
            demo: state.location.demo,
            data_dir: state.location.dir.display().to_string(),
            rows,
        })
    })
}

/// A search result as the window shows it: the register row and the highlighted snippet.
#[derive(Debug, Clone, Serialize)]
pub struct SearchRow {
    /// The register row.
    #[serde(flatten)]
    pub row: RegisterRow,
    /// Matching text with `<b>…</b>` around the terms (HTML-escaped otherwise).
    pub snippet: String,
}

/// Full-text search over the register, with or without diacritics; secret documents are never
/// returned (the window has no clearance yet).
#[tauri::command(async)]
fn search_incoming(
    state: tauri::State<'_, Desktop>,
    query: String,
) -> Result<Vec<SearchRow>, CommandError> {
    state.with_app(|app| {
        let mut q = vanthu_search::SearchQuery::text(query);
        q.limit = 200;
        // While the background job indexes, search what is indexed already (the window shows
        // the job's progress); otherwise catch up first.
        let hits = if state.indexing.running.load(Ordering::SeqCst) {
            app.search_indexed(&q)?
        } else {
            app.search(&q)?
        };
        let mut out = Vec::with_capacity(hits.len());
        for h in hits {
            let row = app.store().get_incoming(&h.id)?;
            out.push(SearchRow {
                row: RegisterRow {
                    so_den_text: format_number(row.so_den),
                    ngay_den_text: vn_date(&row.ngay_den),
                    row,
                },
                snippet: h.snippet,
            });
        }
        Ok(out)
    })
}

/// Progress of the background indexing job (extraction and OCR of new documents), polled by
/// the window while it runs.
#[tauri::command]
fn index_status(state: tauri::State<'_, Desktop>) -> IndexStatus {
    let p = &state.indexing;
    IndexStatus {
        running: p.running.load(Ordering::SeqCst),
        done: p.done.load(Ordering::SeqCst),
        total: p.total.load(Ordering::SeqCst),
        error: p.error.lock().unwrap_or_else(|e| e.into_inner()).clone(),
    }
}

/// The background exchange and the unread notifications, polled by the window.
#[tauri::command(async)]
fn exchange_status(state: tauri::State<'_, Desktop>) -> Result<ExchangeView, CommandError> {
    state.with_app(|app| {
        let st = state
            .exchange
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Ok(ExchangeView {
            state: ExchangeState {
                configured: st.configured || app.axis_settings()?.is_some(),
                ..st
            },
            notifications: app.notifications(false, 50)?,
            unread: app.unread_notifications()?,
        })
    })
}

/// Marks notifications as seen: these ids, or all when `ids` is absent. Returns how many.
#[tauri::command(async)]
fn mark_notifications_read(
    state: tauri::State<'_, Desktop>,
    ids: Option<Vec<String>>,
) -> Result<usize, CommandError> {
    state.with_app(|app| app.mark_notifications_read(ids.as_deref()))
}

/// Registers the commands and the managed state (store from [`StoreLocation::from_env`] unless
/// the builder already manages a [`Desktop`]; tests call `.manage(Desktop::new(…))` first).
pub fn app_builder<R: tauri::Runtime>(b: tauri::Builder<R>) -> tauri::Builder<R> {
    b.invoke_handler(tauri::generate_handler![
        list_incoming,
        search_incoming,
        index_status,
        exchange_status,
        mark_notifications_read
    ])
    .setup(|app| {
        use tauri::Manager;
        if app.try_state::<Desktop>().is_none() {
            app.manage(Desktop::new(StoreLocation::from_env()));
        }
        Ok(())
    })
}

/// Runs the desktop application.
pub fn run() {
    app_builder(tauri::Builder::default())
        .run(tauri::generate_context!())
        .expect("vanthu-desktop: không khởi động được cửa sổ (cannot start the window)");
}

#[cfg(test)]
mod tests {
    use super::vn_date;

    #[test]
    fn dates_are_day_month_year() {
        assert_eq!(vn_date("2026-11-25T10:15:00+07:00"), "25/11/2026");
        assert_eq!(vn_date("?"), "?");
    }
}
