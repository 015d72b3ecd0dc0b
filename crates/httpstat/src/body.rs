//! Reading a response body: where its bytes go (`-o`'s file, or stdout with `-s`), and why
//! reading it failed.

use bytes::Bytes;
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;

use crate::failure::chain_text;

/// Why reading a body failed: the body's own error, or writing it out.
#[derive(Debug)]
pub(crate) enum ReadFailed {
    Body(httptrace::BoxError),
    Write(std::io::Error),
}

impl std::fmt::Display for ReadFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadFailed::Body(e) => write!(f, "reading the body: {}", chain_text(&**e)),
            ReadFailed::Write(e) => write!(f, "writing the body: {e}"),
        }
    }
}

/// Where the bodies read go: `-o`'s file, or stdout (`-s` with no view), one after another.
pub(crate) enum BodySink {
    File(tokio::fs::File),
    Stdout(tokio::io::Stdout),
}

impl BodySink {
    pub(crate) async fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            BodySink::File(f) => f.write_all(data).await,
            BodySink::Stdout(out) => {
                out.write_all(data).await?;
                out.flush().await
            }
        }
    }
}

/// Reads `body` to its end, into `to` when given, counting into `received`; its length.
pub(crate) async fn read_body<B>(
    mut body: B,
    to: Option<&tokio::sync::Mutex<BodySink>>,
    received: &std::sync::atomic::AtomicU64,
) -> Result<u64, ReadFailed>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<httptrace::BoxError>,
{
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ReadFailed::Body(e.into()))?;
        if let Some(data) = frame.data_ref() {
            n += data.len() as u64;
            received.store(n, std::sync::atomic::Ordering::Relaxed);
            if let Some(sink) = to {
                let mut sink = sink.lock().await;
                sink.write_all(data).await.map_err(ReadFailed::Write)?;
            }
        }
    }
    Ok(n)
}
