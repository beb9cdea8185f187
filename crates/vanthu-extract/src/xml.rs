//! Streaming XML walkers for the parts of DOCX, ODT/ODS and XLSX.

use std::io::{BufReader, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::{corrupt, Bounded, ExtractError, Format, Limits, Sink};

/// A simplified XML event: local names only.
pub(crate) enum Ev<'a> {
    Start(&'a str, &'a BytesStart<'a>),
    End(&'a str),
    Text(&'a str),
}

pub(crate) enum Flow {
    Go,
    Stop,
}

/// Walks the XML in `src`, calling `f` per event, until the end or `Flow::Stop`.
/// Refuses a DOCTYPE, undefined entities and nesting deeper than `limits.max_depth`.
pub(crate) fn walk<R: Read>(
    src: &mut Bounded<R>,
    limits: &Limits,
    format: Format,
    mut f: impl FnMut(Ev<'_>) -> Flow,
) -> Result<(), ExtractError> {
    let mut xml = Reader::from_reader(BufReader::new(src));
    {
        let c = xml.config_mut();
        c.trim_text(false);
        c.expand_empty_elements = false;
        c.check_end_names = true;
    }
    let bad = |what: String| corrupt(Some(format), what);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        buf.clear();
        let ev = match xml.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(e) => {
                if xml.get_ref().get_ref().exceeded {
                    // Reported as TooLarge by the caller.
                    return Ok(());
                }
                return Err(bad(format!("XML sai cú pháp (malformed XML): {e}")));
            }
        };
        let flow = match ev {
            Event::DocType(_) => {
                return Err(bad("XML có DOCTYPE, bị từ chối (DOCTYPE refused)".into()));
            }
            Event::Start(e) => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(bad(format!(
                        "XML lồng quá {} cấp (XML nested too deeply)",
                        limits.max_depth
                    )));
                }
                let name = e.local_name();
                f(Ev::Start(name.into_inner(), &e))
            }
            Event::Empty(e) => {
                if depth + 1 > limits.max_depth {
                    return Err(bad(format!(
                        "XML lồng quá {} cấp (XML nested too deeply)",
                        limits.max_depth
                    )));
                }
                let name = e.local_name();
                match f(Ev::Start(name.into_inner(), &e)) {
                    Flow::Stop => Flow::Stop,
                    Flow::Go => f(Ev::End(name.into_inner())),
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let name = e.local_name();
                f(Ev::End(name.into_inner()))
            }
            Event::Text(t) => {
                let s: &str = &t;
                f(Ev::Text(s))
            }
            Event::CData(t) => {
                let s = t.into_inner();
                f(Ev::Text(&s))
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r.into_inner() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(bad(format!(
                                "thực thể không xác định &{other}; (undefined entity)"
                            )))
                        }
                    },
                    Err(e) => return Err(bad(format!("tham chiếu ký tự sai (bad char ref): {e}"))),
                };
                let mut b = [0u8; 4];
                f(Ev::Text(ch.encode_utf8(&mut b)))
            }
            Event::Eof => {
                if depth != 0 {
                    return Err(bad("XML bị cắt cụt (truncated XML)".into()));
                }
                return Ok(());
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => Flow::Go,
        };
        if let Flow::Stop = flow {
            return Ok(());
        }
    }
}

fn flow(ok: bool) -> Flow {
    if ok {
        Flow::Go
    } else {
        Flow::Stop
    }
}

/// Raw value of the attribute with local name `local`.
fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == local)
        .map(|a| a.value.into_owned())
}

/// Table bookkeeping shared by DOCX and ODF: a cell ends with a tab, a row with a newline;
/// trailing empty cells and empty rows vanish.
#[derive(Default)]
struct Table {
    row_starts: Vec<usize>,
}

impl Table {
    fn row_start(&mut self, sink: &Sink) {
        if self.row_starts.len() < 4096 {
            self.row_starts.push(sink.text.len());
        }
    }
    fn cell_end(&mut self, sink: &mut Sink) -> bool {
        if sink.ends_with('\n') {
            sink.trim_back(0, &['\n']);
        }
        sink.push('\t')
    }
    fn row_end(&mut self, sink: &mut Sink) -> bool {
        let start = self.row_starts.pop().unwrap_or(0);
        sink.trim_back(start, &['\t']);
        if sink.text.len() > start {
            sink.push('\n')
        } else {
            true
        }
    }
}

/// `word/document.xml`, headers and footers.
pub(crate) fn docx<R: Read>(
    src: &mut Bounded<R>,
    limits: &Limits,
    sink: &mut Sink,
    format: Format,
) -> Result<(), ExtractError> {
    let mut in_run = 0usize;
    let mut in_t = 0usize;
    let mut table = Table::default();
    walk(src, limits, format, |ev| match ev {
        Ev::Start(n, _) => match n {
            "r" => {
                in_run += 1;
                Flow::Go
            }
            "t" => {
                in_t += 1;
                Flow::Go
            }
            "tab" if in_run > 0 => flow(sink.push('\t')),
            "br" | "cr" if in_run > 0 => flow(sink.push('\n')),
            "tr" => {
                table.row_start(sink);
                Flow::Go
            }
            _ => Flow::Go,
        },
        Ev::End(n) => match n {
            "r" => {
                in_run = in_run.saturating_sub(1);
                Flow::Go
            }
            "t" => {
                in_t = in_t.saturating_sub(1);
                Flow::Go
            }
            "p" => flow(sink.push('\n')),
            "tc" => flow(table.cell_end(sink)),
            "tr" => flow(table.row_end(sink)),
            _ => Flow::Go,
        },
        Ev::Text(s) if in_t > 0 => flow(sink.push_str(s)),
        Ev::Text(_) => Flow::Go,
    })
}

/// `content.xml` of ODT and ODS.
pub(crate) fn odf<R: Read>(
    src: &mut Bounded<R>,
    limits: &Limits,
    sink: &mut Sink,
    format: Format,
) -> Result<(), ExtractError> {
    let mut in_para = 0usize;
    let mut skip = 0usize;
    let mut table = Table::default();
    walk(src, limits, format, |ev| match ev {
        Ev::Start(n, e) => {
            if skip > 0 || matches!(n, "tracked-changes" | "annotation") {
                skip += 1;
                return Flow::Go;
            }
            match n {
                "p" | "h" => {
                    in_para += 1;
                    Flow::Go
                }
                "s" if in_para > 0 => {
                    let c = attr(e, "c")
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(1)
                        .clamp(1, 1024);
                    flow(sink.push_str(&" ".repeat(c)))
                }
                "tab" if in_para > 0 => flow(sink.push('\t')),
                "line-break" if in_para > 0 => flow(sink.push('\n')),
                "table-row" => {
                    table.row_start(sink);
                    Flow::Go
                }
                _ => Flow::Go,
            }
        }
        Ev::End(n) => {
            if skip > 0 {
                skip -= 1;
                return Flow::Go;
            }
            match n {
                "p" | "h" => {
                    in_para = in_para.saturating_sub(1);
                    flow(sink.push('\n'))
                }
                "table-cell" | "covered-table-cell" => flow(table.cell_end(sink)),
                "table-row" => flow(table.row_end(sink)),
                _ => Flow::Go,
            }
        }
        Ev::Text(s) if in_para > 0 && skip == 0 => flow(sink.push_str(s)),
        Ev::Text(_) => Flow::Go,
    })
}

/// `xl/sharedStrings.xml`: one string per `si` (rich runs joined, phonetic runs skipped).
pub(crate) fn xlsx_shared<R: Read>(
    src: &mut Bounded<R>,
    limits: &Limits,
    out: &mut Vec<String>,
    format: Format,
) -> Result<(), ExtractError> {
    let mut in_t = 0usize;
    let mut in_rph = 0usize;
    let mut cur = String::new();
    let mut total = 0usize;
    walk(src, limits, format, |ev| match ev {
        Ev::Start("si", _) => {
            cur.clear();
            Flow::Go
        }
        Ev::Start("t", _) => {
            in_t += 1;
            Flow::Go
        }
        Ev::Start("rPh", _) => {
            in_rph += 1;
            Flow::Go
        }
        Ev::End("t") => {
            in_t = in_t.saturating_sub(1);
            Flow::Go
        }
        Ev::End("rPh") => {
            in_rph = in_rph.saturating_sub(1);
            Flow::Go
        }
        Ev::End("si") => {
            out.push(std::mem::take(&mut cur));
            Flow::Go
        }
        Ev::Text(s) if in_t > 0 && in_rph == 0 => {
            // Strings beyond the text budget could never be shown anyway.
            total = total.saturating_add(s.len());
            if total <= limits.max_text_chars.saturating_mul(4) {
                cur.push_str(s);
            }
            Flow::Go
        }
        _ => Flow::Go,
    })
}

/// One `xl/worksheets/sheetN.xml`: cells joined by tabs, rows by newlines.
pub(crate) fn xlsx_sheet<R: Read>(
    src: &mut Bounded<R>,
    limits: &Limits,
    shared: &[String],
    sink: &mut Sink,
    format: Format,
) -> Result<(), ExtractError> {
    let mut cell_type: Option<String> = None;
    let mut in_v = 0usize;
    let mut in_is_t = 0usize;
    let mut in_is = 0usize;
    let mut val = String::new();
    let mut row_start = 0usize;
    walk(src, limits, format, |ev| match ev {
        Ev::Start("row", _) => {
            row_start = sink.text.len();
            Flow::Go
        }
        Ev::Start("c", e) => {
            cell_type = attr(e, "t");
            val.clear();
            Flow::Go
        }
        Ev::Start("v", _) => {
            in_v += 1;
            Flow::Go
        }
        Ev::Start("is", _) => {
            in_is += 1;
            Flow::Go
        }
        Ev::Start("t", _) if in_is > 0 => {
            in_is_t += 1;
            Flow::Go
        }
        Ev::End("v") => {
            in_v = in_v.saturating_sub(1);
            Flow::Go
        }
        Ev::End("is") => {
            in_is = in_is.saturating_sub(1);
            Flow::Go
        }
        Ev::End("t") => {
            in_is_t = in_is_t.saturating_sub(1);
            Flow::Go
        }
        Ev::Text(s) if in_v > 0 || in_is_t > 0 => {
            if val.len() < 1 << 20 {
                val.push_str(s);
            }
            Flow::Go
        }
        Ev::End("c") => {
            let text: &str = match cell_type.as_deref() {
                Some("s") => val
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| shared.get(i))
                    .map(String::as_str)
                    .unwrap_or(""),
                Some("b") => match val.trim() {
                    "1" => "TRUE",
                    "0" => "FALSE",
                    _ => "",
                },
                _ => val.as_str(),
            };
            if text.is_empty() {
                Flow::Go
            } else {
                flow(sink.push_str(text) && sink.push('\t'))
            }
        }
        Ev::End("row") => {
            sink.trim_back(row_start, &['\t']);
            if sink.text.len() > row_start {
                flow(sink.push('\n'))
            } else {
                Flow::Go
            }
        }
        _ => Flow::Go,
    })
}
