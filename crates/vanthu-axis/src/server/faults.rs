//! Faults the local axis server injects on request (`POST /admin/faults`).

use serde::{Deserialize, Serialize};

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Close the connection without answering; the request is not applied.
    Drop,
    /// Apply the request, then close the connection without answering (the answer is lost).
    DropAfter,
    /// Wait `delay_ms`, then answer normally.
    Delay,
    /// Answer HTTP `status` (default 503) with a non-JSON body; not applied.
    Error5xx,
    /// Apply the request and answer only the first half of the body.
    Truncate,
    /// `sendEdoc`: deliver every recipient two copies (two `docId`s).
    Duplicate,
    /// Answer normally with an HTTP `Date` shifted by `skew_secs` (a server clock that is off).
    ClockSkew,
}

/// One fault rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    /// Operation (`getEdoc`, `sendEdoc`, …) or `*`.
    #[serde(default = "star")]
    pub op: String,
    /// What to do.
    pub kind: FaultKind,
    /// How many times it may fire (0 = unlimited).
    #[serde(default = "one")]
    pub times: u32,
    /// Chance per matching request (default 1).
    #[serde(default = "always")]
    pub probability: f64,
    /// Only for requests of this agency (organ id).
    #[serde(default)]
    pub agency: Option<String>,
    /// Delay for `delay`.
    #[serde(default)]
    pub delay_ms: u64,
    /// HTTP status for `error5xx`.
    #[serde(default)]
    pub status: Option<u16>,
    /// Seconds added to the answer's `Date` for `clock_skew` (negative: behind).
    #[serde(default)]
    pub skew_secs: i64,
    /// Times fired so far.
    #[serde(default)]
    pub fired: u32,
}

fn star() -> String {
    "*".into()
}
fn one() -> u32 {
    1
}
fn always() -> f64 {
    1.0
}

/// The active rules.
#[derive(Debug, Default)]
pub struct Faults {
    /// Rules in order.
    pub rules: Vec<Fault>,
    /// Total fired.
    pub fired: u64,
}

impl Faults {
    /// The first rule that fires for this request, if any (counted as fired).
    pub fn take(&mut self, op: &str, agency: &str) -> Option<Fault> {
        for r in self.rules.iter_mut() {
            if r.times != 0 && r.fired >= r.times {
                continue;
            }
            if r.op != "*" && r.op != op {
                continue;
            }
            if r.agency.as_deref().is_some_and(|a| a != agency) {
                continue;
            }
            if r.probability < 1.0 && rand::random::<f64>() >= r.probability {
                continue;
            }
            r.fired += 1;
            self.fired += 1;
            return Some(r.clone());
        }
        None
    }
}
