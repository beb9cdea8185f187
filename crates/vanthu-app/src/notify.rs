//! Notifications: what arrived while the clerk was not looking. Each is written in the same
//! transaction as the document, status or request it announces (exactly once, even when a
//! package is delivered twice or the process dies before the acknowledgement), and stays
//! unread until the clerk has seen it.

use serde::{Deserialize, Serialize};
use serde_json::json;
use vanthu_store::store::rfc3339;
use vanthu_store::Tx;

use crate::{App, AppError};

/// One notification.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Notification {
    /// Id.
    pub id: String,
    /// When.
    pub created_at: String,
    /// `arrival`, `status` or `request`.
    pub kind: String,
    /// The incoming (arrival, request) or outgoing (status) document.
    pub document_id: Option<String>,
    /// One line, Vietnamese.
    pub title: String,
    /// Details.
    pub body: String,
    /// When seen (`None`: unread).
    pub read_at: Option<String>,
}

/// Records a notification inside a running transaction.
pub(crate) fn record(
    tx: &mut Tx<'_>,
    kind: &str,
    document_id: Option<&str>,
    title: &str,
    body: &str,
) -> Result<(), AppError> {
    tx.execute_json(
        "INSERT INTO notification (id, created_at, kind, document_id, title, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            json!(vanthu_store::fsutil::random_id()),
            json!(rfc3339(tx.now)),
            json!(kind),
            json!(document_id),
            json!(title),
            json!(body),
        ],
    )?;
    Ok(())
}

impl App {
    /// Notifications, newest first: only the unread ones unless `all`.
    pub fn notifications(&self, all: bool, limit: usize) -> Result<Vec<Notification>, AppError> {
        Ok(self.store().query_rows(
            "SELECT id, created_at, kind, document_id, title, body, read_at FROM notification
             WHERE ?1 OR read_at IS NULL ORDER BY created_at DESC, rowid DESC LIMIT ?2",
            &[json!(all), json!(limit as i64)],
        )?)
    }

    /// How many are unread.
    pub fn unread_notifications(&self) -> Result<u64, AppError> {
        let v: Vec<serde_json::Value> = self.store().query_rows(
            "SELECT count(*) AS n FROM notification WHERE read_at IS NULL",
            &[],
        )?;
        Ok(v.first().and_then(|v| v["n"].as_u64()).unwrap_or(0))
    }

    /// Marks notifications read: these ids, or every unread one. Returns how many changed.
    pub fn mark_notifications_read(&mut self, ids: Option<&[String]>) -> Result<usize, AppError> {
        let actor = self.actor().to_string();
        let ids = ids.map(|i| i.to_vec());
        self.store_mut().write(&actor, |tx| {
            let now = rfc3339(tx.now);
            let n = match &ids {
                None => tx.execute_json(
                    "UPDATE notification SET read_at = ?1 WHERE read_at IS NULL",
                    &[json!(now)],
                )?,
                Some(ids) => {
                    let mut n = 0;
                    for id in ids {
                        n += tx.execute_json(
                            "UPDATE notification SET read_at = ?1 WHERE id = ?2 AND read_at IS NULL",
                            &[json!(now), json!(id)],
                        )?;
                    }
                    n
                }
            };
            Ok::<_, AppError>(n)
        })
    }
}
