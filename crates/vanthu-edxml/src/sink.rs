//! Attachment sinks: where the reader streams decoded attachment bytes.

use std::io::{self, Write};

/// What is known about an attachment when its data starts.
///
/// Producers order `Attachment` children differently: fields that come after
/// `ContentTransferEncoded` in the file are `None` here (the complete metadata is in
/// [`crate::Attachment`] once parsing ends, under the same `index`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachmentMeta {
    /// 0-based position of the attachment in the file.
    pub index: usize,
    /// `ContentId`, if already seen.
    pub content_id: Option<String>,
    /// `AttachmentName`, if already seen.
    pub attachment_name: Option<String>,
    /// `ContentType`, if already seen.
    pub content_type: Option<String>,
}

/// Summary passed to [`AttachmentSink::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentDigest {
    /// Decoded size.
    pub size: u64,
    /// Lowercase hex SHA-256 of the decoded bytes.
    pub sha256: String,
}

/// Receives decoded attachment bytes while the message is parsed.
///
/// For each `ContentTransferEncoded` element the reader calls [`begin`](Self::begin),
/// writes the decoded bytes in chunks (at most 48 KiB each) to the returned writer, then
/// calls exactly one of [`finish`](Self::finish) (data complete and valid) or
/// [`abort`](Self::abort) (bad base64, size limit, or a fatal error later in the same
/// element). An implementation backed by an encrypted blob store opens a blob in
/// `begin`, encrypts in `write`, commits in `finish` and deletes in `abort`.
///
/// An `Err` from any method is fatal for the whole message (`EDXML_SINK`).
///
/// When [`crate::read_message`] returns an error, attachments already passed to
/// `finish` stay finished: the caller must discard everything it stored for that
/// message (the raw package is quarantined instead). The attachment being decoded when
/// the error happened is always aborted.
pub trait AttachmentSink {
    /// The per-attachment writer.
    type Writer: Write;

    /// An attachment starts.
    fn begin(&mut self, meta: &AttachmentMeta) -> io::Result<Self::Writer>;

    /// The attachment's data is complete and valid.
    fn finish(
        &mut self,
        meta: &AttachmentMeta,
        writer: Self::Writer,
        digest: &AttachmentDigest,
    ) -> io::Result<()>;

    /// The attachment's data is unusable; discard what was written.
    fn abort(&mut self, meta: &AttachmentMeta, writer: Self::Writer, reason: &str);
}

/// Keeps every attachment in memory (tests, small messages).
#[derive(Debug, Default)]
pub struct VecSink {
    /// Decoded attachments by index; `None` for aborted ones.
    pub attachments: Vec<Option<Vec<u8>>>,
}

impl VecSink {
    /// Empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decoded bytes of attachment `index`, if complete.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.attachments.get(index).and_then(|a| a.as_deref())
    }
}

impl AttachmentSink for VecSink {
    type Writer = Vec<u8>;

    fn begin(&mut self, meta: &AttachmentMeta) -> io::Result<Vec<u8>> {
        while self.attachments.len() <= meta.index {
            self.attachments.push(None);
        }
        Ok(Vec::new())
    }

    fn finish(
        &mut self,
        meta: &AttachmentMeta,
        writer: Vec<u8>,
        _digest: &AttachmentDigest,
    ) -> io::Result<()> {
        self.attachments[meta.index] = Some(writer);
        Ok(())
    }

    fn abort(&mut self, meta: &AttachmentMeta, _writer: Vec<u8>, _reason: &str) {
        self.attachments[meta.index] = None;
    }
}

/// Discards the bytes; the reader still records size and SHA-256 on each
/// [`crate::Attachment`]. Use it to validate or inspect without storing.
#[derive(Debug, Default, Clone, Copy)]
pub struct HashOnlySink;

impl AttachmentSink for HashOnlySink {
    type Writer = io::Sink;

    fn begin(&mut self, _meta: &AttachmentMeta) -> io::Result<io::Sink> {
        Ok(io::sink())
    }

    fn finish(
        &mut self,
        _meta: &AttachmentMeta,
        _writer: io::Sink,
        _digest: &AttachmentDigest,
    ) -> io::Result<()> {
        Ok(())
    }

    fn abort(&mut self, _meta: &AttachmentMeta, _writer: io::Sink, _reason: &str) {}
}

impl<S: AttachmentSink + ?Sized> AttachmentSink for &mut S {
    type Writer = S::Writer;

    fn begin(&mut self, meta: &AttachmentMeta) -> io::Result<Self::Writer> {
        (**self).begin(meta)
    }

    fn finish(
        &mut self,
        meta: &AttachmentMeta,
        writer: Self::Writer,
        digest: &AttachmentDigest,
    ) -> io::Result<()> {
        (**self).finish(meta, writer, digest)
    }

    fn abort(&mut self, meta: &AttachmentMeta, writer: Self::Writer, reason: &str) {
        (**self).abort(meta, writer, reason)
    }
}
