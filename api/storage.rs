//! Where attachment bytes live: one `object_store` API over a directory on this machine (the embedded default)
//! or an S3-compatible bucket (scale-out, shared by every instance). Bytes are streamed both ways: a file is
//! never held in memory whole.

use std::ops::Range;
use std::sync::Arc;

use actix_web::web::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{GetOptions, ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::io::AsyncReadExt;

/// Parts of a multipart upload to S3, whose smallest part is 5 MiB. Each is buffered in memory until sent.
const S3_PART_BYTES: usize = 5 * 1024 * 1024;
/// A directory takes parts of any size: small ones keep an upload's memory small (measured: a 25 MiB upload
/// raised the peak RSS by 19 MiB with 5 MiB parts; README, Benchmarks).
const LOCAL_PART_BYTES: usize = 256 * 1024;
/// Parts in flight to the store at once, per upload.
const PARTS_IN_FLIGHT: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("CHAT_STORAGE_URL is not usable: {0}")]
    Config(String),
    #[error("the object is not in storage")]
    NotFound,
    #[error("storage failed: {0}")]
    Failed(String),
}

impl From<object_store::Error> for StorageError {
    fn from(err: object_store::Error) -> Self {
        match err {
            object_store::Error::NotFound { .. } => StorageError::NotFound,
            other => StorageError::Failed(other.to_string()),
        }
    }
}

impl From<std::io::Error> for StorageError {
    fn from(err: std::io::Error) -> Self {
        StorageError::Failed(err.to_string())
    }
}

pub type StorageResult<T> = Result<T, StorageError>;

/// An object's bytes as they are read: the range served, the object's whole size, and the stream.
pub struct Download {
    pub range: Range<u64>,
    pub total: u64,
    pub bytes: BoxStream<'static, StorageResult<Bytes>>,
}

#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// Keys go under this (a bucket may hold more than this server's objects).
    prefix: Path,
    /// For logs and the start-up line: where, without credentials.
    pub location: String,
    part_bytes: usize,
}

impl Storage {
    /// `s3://bucket[/prefix]`, `file:///dir`, or (None) `<data dir>/attachments`.
    pub fn open(url: Option<&str>, data_dir: &std::path::Path) -> StorageResult<Self> {
        let Some(raw) = url.filter(|u| !u.trim().is_empty()) else {
            return Self::local(&data_dir.join("attachments"));
        };
        let url = url::Url::parse(raw).map_err(|e| StorageError::Config(format!("not a URL: {e}")))?;
        match url.scheme() {
            "file" => {
                let dir =
                    url.to_file_path().map_err(|()| StorageError::Config("file:// needs an absolute path".into()))?;
                Self::local(&dir)
            }
            "s3" => {
                let bucket = url
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| StorageError::Config("s3:// needs a bucket, as in s3://my-bucket/chat".into()))?;
                let store = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(|e| StorageError::Config(e.to_string()))?;
                let prefix = url.path().trim_matches('/');
                Ok(Storage {
                    store: Arc::new(store),
                    prefix: Path::from(prefix),
                    location: format!("s3://{bucket}/{prefix}"),
                    part_bytes: S3_PART_BYTES,
                })
            }
            other => Err(StorageError::Config(format!("unknown scheme {other}:// (use s3:// or file://)"))),
        }
    }

    fn local(dir: &std::path::Path) -> StorageResult<Self> {
        crate::private_files::create_dir(dir)
            .map_err(|e| StorageError::Config(format!("cannot create {}: {e}", dir.display())))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| StorageError::Config(e.to_string()))?
            // Deleting a file removes the directories it leaves empty.
            .with_automatic_cleanup(true);
        Ok(Storage {
            store: Arc::new(store),
            prefix: Path::default(),
            location: dir.display().to_string(),
            part_bytes: LOCAL_PART_BYTES,
        })
    }

    fn path(&self, key: &str) -> Path {
        self.prefix.clone().join(key)
    }

    /// Copy a local file into storage under `key`, in parts, streaming.
    pub async fn put_file(&self, key: &str, file: &std::path::Path) -> StorageResult<()> {
        let upload = self.store.put_multipart(&self.path(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_bytes);
        let copied = async {
            let mut source = tokio::fs::File::open(file).await?;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let read = source.read(&mut buf).await?;
                if read == 0 {
                    return Ok::<(), StorageError>(());
                }
                writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                writer.write(&buf[..read]);
            }
        }
        .await;
        match copied {
            Ok(()) => {
                writer.finish().await?;
                Ok(())
            }
            Err(err) => {
                let _ = writer.abort().await;
                Err(err)
            }
        }
    }

    /// Small objects (thumbnails) in one request.
    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> StorageResult<()> {
        self.store.put(&self.path(key), bytes.into()).await?;
        Ok(())
    }

    /// The object, or the byte range of it (`end` exclusive, clamped to the object).
    pub async fn get(&self, key: &str, range: Option<Range<u64>>) -> StorageResult<Download> {
        let options = GetOptions::default().with_range(range);
        let found = self.store.get_opts(&self.path(key), options).await?;
        let (range, total) = (found.range.clone(), found.meta.size);
        let bytes = found.into_stream().map_err(StorageError::from).boxed();
        Ok(Download { range, total, bytes })
    }

    /// Removes the object; one already gone is not an error.
    pub async fn delete(&self, key: &str) -> StorageResult<()> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }
}
