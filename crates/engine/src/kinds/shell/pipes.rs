//! The pipes of a process: what is written to its stdin, and what is kept of its stdout
//! and stderr.
//!
//! Invariants:
//! - a [`Capture`] reads its pipe to the end (or to the first read error), keeping at most
//!   its limit and discarding the rest, so the process never blocks on a full pipe; a cut
//!   stream is flagged, never an error;
//! - its text replaces invalid UTF-8, and drops a character cut in half by the limit
//!   rather than mangling it;
//! - stdin is written whole and then closed; a process that does not read it all (a
//!   broken pipe) is not an error.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// What was read from one pipe.
#[derive(Debug, Default)]
pub(super) struct Capture {
    pub(super) bytes: Vec<u8>,
    pub(super) truncated: bool,
}

impl Capture {
    /// Reads `pipe` to its end, keeping up to `limit` bytes and discarding the rest.
    pub(super) async fn read_from<R: AsyncRead + Unpin>(&mut self, pipe: Option<R>, limit: usize) {
        let Some(mut pipe) = pipe else {
            return;
        };
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match pipe.read(&mut buf).await {
                Ok(0) => return,
                Ok(n) => {
                    let room = limit.saturating_sub(self.bytes.len());
                    let take = n.min(room);
                    self.bytes.extend_from_slice(&buf[..take]);
                    if take < n {
                        self.truncated = true;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// The text, without a character cut in half at the end of a truncated stream.
    pub(super) fn text(&self) -> String {
        match std::str::from_utf8(&self.bytes) {
            Ok(s) => s.to_string(),
            Err(e) if self.truncated && e.error_len().is_none() => {
                String::from_utf8_lossy(&self.bytes[..e.valid_up_to()]).into_owned()
            }
            Err(_) => String::from_utf8_lossy(&self.bytes).into_owned(),
        }
    }
}

/// Writes `data` to the process's stdin, then closes it. A process that does not read
/// all of it (a broken pipe) is not an error.
pub(super) async fn write_stdin(pipe: Option<tokio::process::ChildStdin>, data: Option<&str>) {
    if let (Some(mut pipe), Some(data)) = (pipe, data) {
        let _ = pipe.write_all(data.as_bytes()).await;
        let _ = pipe.shutdown().await;
    }
}
