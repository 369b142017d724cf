//! An upload's body, streamed into a local file as it arrives: counted against the size limit, hashed, and
//! sniffed from its first bytes, so a file of a refused type or over the limit stops at that point, not at the
//! end.

use std::fmt::Display;

use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::policy::{self, SNIFF_BYTES, Sniffed};

#[derive(Debug)]
pub struct Received {
    pub size: u64,
    /// Hex SHA-256 of the bytes (the ETag).
    pub sha256: String,
    pub sniffed: Sniffed,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    #[error("{0}")]
    Refused(&'static str),
    #[error("an empty file cannot be attached")]
    Empty,
    /// The client stopped sending (or sent a broken body).
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// Nothing arrived for this long: the connection and its reservation are let go.
    #[error("the upload stalled: nothing arrived for {0} s")]
    Stalled(u64),
    #[error("cannot write the upload: {0}")]
    Io(#[from] std::io::Error),
}

/// Write `body` into `file` (created, private), at most `max` bytes, each part arriving within `idle` of the
/// last (a client trickling a byte a minute would otherwise hold its upload slot and connection for ever).
pub async fn receive<S, E>(
    mut body: S,
    file: &std::path::Path,
    max: u64,
    idle: std::time::Duration,
) -> Result<Received, ReceiveError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let mut out = tokio::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(file).await?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut sniffed: Option<Sniffed> = None;
    loop {
        let next = tokio::time::timeout(idle, body.next()).await.map_err(|_| ReceiveError::Stalled(idle.as_secs()))?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| ReceiveError::Interrupted(e.to_string()))?;
        size += chunk.len() as u64;
        if size > max {
            return Err(ReceiveError::TooLarge(max));
        }
        if sniffed.is_none() {
            let wanted = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..wanted]);
            if head.len() == SNIFF_BYTES {
                sniffed = Some(policy::sniff(&head).map_err(|r| ReceiveError::Refused(r.0))?);
            }
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await?;
    }
    if size == 0 {
        return Err(ReceiveError::Empty);
    }
    let sniffed = match sniffed {
        Some(sniffed) => sniffed,
        None => policy::sniff(&head).map_err(|r| ReceiveError::Refused(r.0))?,
    };
    out.flush().await?;
    let sha256 = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Received { size, sha256, sniffed })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: std::time::Duration = std::time::Duration::from_secs(5);

    fn chunks(parts: &[&[u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        futures_util::stream::iter(parts.iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect::<Vec<_>>())
    }

    fn temp_file() -> std::path::PathBuf {
        let mut name = [0u8; 8];
        getrandom::fill(&mut name).expect("random");
        std::env::temp_dir()
            .join(format!("receive-test-{}", name.iter().map(|b| format!("{b:02x}")).collect::<String>()))
    }

    #[tokio::test]
    async fn a_body_in_chunks_is_written_whole_counted_and_hashed() {
        let file = temp_file();
        let received = receive(chunks(&[b"%PDF-1.7\n", b"rest"]), &file, 100, IDLE).await.unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"%PDF-1.7\nrest");
        assert_eq!(received.size, 13);
        assert_eq!(received.sniffed.content_type, "application/pdf");
        assert_eq!(received.sha256, format!("{:x}", Sha256::digest(b"%PDF-1.7\nrest")));
        std::fs::remove_file(file).unwrap();
    }

    #[tokio::test]
    async fn a_body_over_the_limit_stops_there() {
        let file = temp_file();
        let err = receive(chunks(&[b"12345", b"67890"]), &file, 8, IDLE).await.unwrap_err();
        assert!(matches!(err, ReceiveError::TooLarge(8)), "{err}");
        std::fs::remove_file(file).unwrap();
    }

    #[tokio::test]
    async fn a_body_that_stops_arriving_is_given_up() {
        let file = temp_file();
        let stalled = chunks(&[b"%PDF-1.7\n"]).chain(futures_util::stream::pending());
        let err = receive(Box::pin(stalled), &file, 100, std::time::Duration::from_millis(50)).await.unwrap_err();
        assert!(matches!(err, ReceiveError::Stalled(0)), "{err}");
        std::fs::remove_file(file).unwrap();
    }

    #[tokio::test]
    async fn a_refused_type_stops_at_its_first_bytes() {
        let file = temp_file();
        let mut html = b"<html>".to_vec();
        html.resize(SNIFF_BYTES + 10, b' ');
        let err = receive(chunks(&[&html]), &file, 1 << 20, IDLE).await.unwrap_err();
        assert!(matches!(err, ReceiveError::Refused(_)), "{err}");
        std::fs::remove_file(file).unwrap();
    }
}
