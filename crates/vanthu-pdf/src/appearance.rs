//! Visible signature appearances (form XObjects).

use crate::object::{Dict, Obj};
use crate::sign::{Update, Visible};
use crate::PdfError;

/// Builds the normal appearance of a visible signature and returns its object number.
pub(crate) fn build(up: &mut Update<'_>, v: &Visible) -> Result<u32, PdfError> {
    let (w, h) = (v.rect[2], v.rect[3]);
    let content = format!(
        "q 0 0 0 RG 0.5 w 0.25 0.25 {:.2} {:.2} re S Q\n",
        w - 0.5,
        h - 0.5
    );
    let n = up.alloc();
    let d = Dict::new()
        .with("Type", Obj::name("XObject"))
        .with("Subtype", Obj::name("Form"))
        .with(
            "BBox",
            Obj::Arr(vec![Obj::Int(0), Obj::Int(0), Obj::Real(w), Obj::Real(h)]),
        )
        .with("Resources", Obj::Dict(Dict::new()));
    up.put(n, Obj::Stream(d, content.into_bytes()));
    Ok(n)
}
