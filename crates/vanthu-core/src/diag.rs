//! Bilingual diagnostics: blocking [`FieldError`]s, collected into
//! [`ValidationErrors`], and non-blocking [`Warning`]s.
//!
//! `field` is the Vietnamese register column name shown in the UI (e.g.
//! `Trích yếu nội dung`), `code` a stable ASCII code for programs and tests.

use serde::Serialize;
use std::fmt;

/// A blocking problem with one field of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The register column's Vietnamese name, e.g. `Trích yếu nội dung`.
    pub field: &'static str,
    /// Stable ASCII code, e.g. `required`, `too_long`.
    pub code: &'static str,
    /// Message in Vietnamese (the UI language).
    pub message_vi: String,
    /// The same message in English (logs, support).
    pub message_en: String,
}

/// A non-blocking notice: the action may proceed, but the user is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The register column's Vietnamese name.
    pub field: &'static str,
    /// Stable ASCII code, e.g. `unknown_type`.
    pub code: &'static str,
    /// Message in Vietnamese.
    pub message_vi: String,
    /// Message in English.
    pub message_en: String,
}

/// All blocking errors found while validating a form (never empty when
/// returned as an error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// Whether some error concerns `field` with the given `code`.
    pub fn has(&self, field: &str, code: &str) -> bool {
        self.0.iter().any(|e| e.field == field && e.code == code)
    }
}

impl fmt::Display for ValidationErrors {
    /// The Vietnamese messages joined by `"; "`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            f.write_str(&e.message_vi)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_vi)
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_vi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(vi: &str) -> FieldError {
        FieldError {
            field: "Ghi chú",
            code: "x",
            message_vi: vi.into(),
            message_en: String::new(),
        }
    }

    #[test]
    fn display_joins_vietnamese_messages() {
        let e = ValidationErrors(vec![err("một"), err("hai")]);
        assert_eq!(e.to_string(), "một; hai");
        assert!(e.has("Ghi chú", "x"));
        assert!(!e.has("Ghi chú", "y"));
    }
}
