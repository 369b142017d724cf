//! Attachments in an S3-compatible bucket, for real over HTTP: CI starts moto's S3 server and sets
//! `TEST_STORAGE_URL` (`s3://bucket`) and the usual `AWS_*` variables (endpoint, keys, region, plain HTTP).
//! Two instances on PostgreSQL + Redis, each with a data directory of its own, share the bucket: a file uploaded
//! through one is read through the other, and no instance keeps it on its disk.

use chat_server::protocol::{Message, ServerFrame};
use reqwest::StatusCode;

use crate::attachments::{collect_garbage, png, sha256};
use crate::helpers::*;

/// The object as the bucket holds it, read straight from the S3 endpoint (moto does not check signatures).
async fn object_in_bucket(bucket_url: &str, key: &str) -> (StatusCode, Vec<u8>) {
    let endpoint = std::env::var("AWS_ENDPOINT").expect("CI sets AWS_ENDPOINT with TEST_STORAGE_URL");
    let path = bucket_url.strip_prefix("s3://").expect("an s3:// URL");
    let res = reqwest::get(format!("{endpoint}/{path}/{key}")).await.expect("the S3 endpoint answers");
    (res.status(), res.bytes().await.expect("body").to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_s3_tests), ignore = "needs TEST_STORAGE_URL (an S3-compatible bucket) and AWS_* settings")]
async fn two_instances_share_attachments_through_an_s3_bucket_and_keep_none_on_disk() {
    let bucket = std::env::var("TEST_STORAGE_URL").expect("TEST_STORAGE_URL");
    let backend = if std::env::var("TEST_DATABASE_URL").is_ok() { Backend::Postgres } else { Backend::Sqlite };
    let store = Store::fresh(backend).await.expect("a store");
    let mut settings = settings_for(&store);
    let prefixed = format!("{bucket}/run-{}", random_hex(6));
    settings.storage_url = Some(prefixed.clone());
    let app = spawn_with(store, settings).await;
    let other_dir = std::env::temp_dir().join(format!("chat-test-{}", random_hex(8)));
    let other = app.sibling_with(|s| s.data_dir = other_dir.clone()).await;

    let a = app.register("s3a").await;
    let b = app.register("s3b").await;
    let chat = app.direct(&a.access_token, b.user.id).await;
    let mut bob = other.ws(&b.access_token).await;
    let file = png(500, 250);
    let uploaded = app.uploaded(&a.access_token, chat.id, "bucket.png", file.clone()).await;
    let sent = app.send_with(&a.access_token, chat.id, "in the bucket", &[&uploaded.id], "s3-1").await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let live = bob
        .expect("the message, through the other instance", |f| match f {
            ServerFrame::Message { message } => Some(message.clone()),
            _ => None,
        })
        .await;
    assert_eq!(live.attachments, sent.json::<Message>().attachments);

    // Read through the other instance: whole, a range, the thumbnail.
    let got = other.fetch(&uploaded.url, Some(&b.access_token), &[]).await;
    assert_eq!((got.status, sha256(&got.bytes)), (StatusCode::OK, sha256(&file)));
    let part = other.fetch(&uploaded.url, Some(&b.access_token), &[("range", "bytes=8-15")]).await;
    assert_eq!((part.status, part.bytes.as_slice()), (StatusCode::PARTIAL_CONTENT, &file[8..16]));
    let thumb = other.fetch(uploaded.thumbnail_url.as_deref().expect("thumbnail"), Some(&b.access_token), &[]).await;
    assert_eq!(image::load_from_memory(&thumb.bytes).expect("decodes").width(), 320);

    // The bucket holds it; neither instance's disk does.
    let (status, bytes) = object_in_bucket(&prefixed, &uploaded.id).await;
    assert_eq!((status, sha256(&bytes)), (StatusCode::OK, sha256(&file)));
    for dir in [&app.settings.data_dir, &other_dir] {
        assert!(!dir.join("attachments").join(&uploaded.id).exists(), "a copy on disk under {}", dir.display());
    }

    // Deleting the message through the other instance removes the object from the bucket.
    let seq = live.seq;
    let deleted = other.delete(&format!("/api/conversations/{}/messages/{seq}", chat.id), &a.access_token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(object_in_bucket(&prefixed, &uploaded.id).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.fetch(&uploaded.url, Some(&b.access_token), &[]).await.status, StatusCode::NOT_FOUND);

    // An upload never sent is collected from the bucket too.
    let unsent = other.uploaded(&a.access_token, chat.id, "unsent.png", png(4, 4)).await;
    assert_eq!(object_in_bucket(&prefixed, &unsent.id).await.0, StatusCode::OK);
    let mut settings = app.settings.clone();
    settings.upload_grace_hours = 0.0;
    assert_eq!(collect_garbage(&settings).await, 1);
    assert_eq!(object_in_bucket(&prefixed, &unsent.id).await.0, StatusCode::NOT_FOUND);
    let _ = std::fs::remove_dir_all(&other_dir);
}
