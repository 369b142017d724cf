//! Attachments: upload → send → live delivery → download of identical bytes; ranges, caching, thumbnails;
//! removal with the message and after the grace period. Hostile cases are in `hostile_attachments`.

use chat_server::protocol::{Attachment, MediaToken, Message, ServerFrame};
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

/// A `width`×`height` RGB PNG, each pixel different.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image =
        image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, (x ^ y) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).expect("png");
    out.into_inner()
}

/// A JPEG stored `width`×`height`, left half red and right half blue, whose EXIF says to show it turned by
/// `orientation` (6: a quarter turn clockwise).
pub fn jpeg_with_orientation(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 { image::Rgb([255, 0, 0]) } else { image::Rgb([0, 0, 255]) }
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image.write_to(&mut jpeg, image::ImageFormat::Jpeg).expect("jpeg");
    let jpeg = jpeg.into_inner();
    // APP1 "Exif": a big-endian TIFF header and one IFD entry, Orientation (0x0112, SHORT, 1 value).
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A response whose body is bytes, not JSON.
pub struct Fetched {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Fetched {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

impl TestApp {
    pub async fn upload(&self, token: &str, conversation: i64, name: &str, bytes: Vec<u8>) -> Reply {
        let url = format!("{}/api/conversations/{conversation}/attachments", self.address);
        let res = self.client.post(url).query(&[("name", name)]).bearer_auth(token).body(bytes).send().await;
        read_reply(res.expect("upload sent")).await
    }

    pub async fn uploaded(&self, token: &str, conversation: i64, name: &str, bytes: Vec<u8>) -> Attachment {
        let reply = self.upload(token, conversation, name, bytes).await;
        assert_eq!(reply.status, StatusCode::CREATED, "upload: {}", reply.body);
        reply.json()
    }

    /// GET a path with an optional bearer token and extra headers, body as bytes.
    pub async fn fetch(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Fetched {
        let mut req = self.client.get(format!("{}{path}", self.address));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.expect("fetch sent");
        let (status, headers) = (res.status(), res.headers().clone());
        Fetched { status, headers, bytes: res.bytes().await.expect("body").to_vec() }
    }

    pub async fn send_with(&self, token: &str, conversation: i64, body: &str, ids: &[&str], client_id: &str) -> Reply {
        let path = format!("/api/conversations/{conversation}/messages");
        self.post(&path, Some(token), &json!({"body": body, "client_id": client_id, "attachment_ids": ids})).await
    }
}

on_both_backends! {
    async fn an_uploaded_file_sent_in_a_message_reaches_the_other_member_live_with_identical_bytes(app) {
        let a = app.register("ada").await;
        let b = app.register("bob").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let mut bob = app.ws(&b.access_token).await;
        let file = png(64, 48);
        let uploaded = app.uploaded(&a.access_token, chat.id, "pic.png", file.clone()).await;
        assert_eq!(
            (uploaded.name.as_str(), uploaded.content_type.as_str(), uploaded.size, uploaded.width, uploaded.height),
            ("pic.png", "image/png", file.len() as i64, Some(64), Some(48))
        );
        let sent = app.send_with(&a.access_token, chat.id, "look", &[&uploaded.id], "with-pic").await;
        assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
        assert_eq!(sent.json::<Message>().attachments, std::slice::from_ref(&uploaded));

        let live = bob.expect("the message", |f| match f {
            ServerFrame::Message { message } => Some(message.clone()),
            _ => None,
        }).await;
        assert_eq!(live.attachments, std::slice::from_ref(&uploaded));
        let got = app.fetch(&live.attachments[0].url, Some(&b.access_token), &[]).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(sha256(&got.bytes), sha256(&file));
        assert_eq!(got.header("content-type"), "image/png");
        assert!(got.header("content-disposition").starts_with("inline; filename=\"pic.png\""), "{}", got.header("content-disposition"));
        assert_eq!(got.header("cache-control"), "private, max-age=3600");
        assert_eq!(got.header("etag"), format!("\"{}\"", sha256(&file)));
        assert_eq!(got.header("x-content-type-options"), "nosniff");
        // History carries the same attachments.
        let page = app.history(&b.access_token, chat.id, "").await;
        assert_eq!(page.messages[0].attachments, [uploaded]);
    }

    async fn an_img_tag_reads_an_attachment_with_a_media_token_instead_of_a_header(app) {
        let a = app.register("ami").await;
        let b = app.register("ben").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let uploaded = app.uploaded(&a.access_token, chat.id, "p.png", png(400, 200)).await;
        app.send_with(&a.access_token, chat.id, "", &[&uploaded.id], "m1").await;
        let token: MediaToken = app.post("/api/media-token", Some(&b.access_token), &json!({})).await.json();
        assert!(token.expires_in > 0 && token.expires_in <= 900, "{}", token.expires_in);
        let thumbnail = uploaded.thumbnail_url.clone().expect("an image has a thumbnail");
        let got = app.fetch(&format!("{thumbnail}?media_token={}", token.token), None, &[]).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.header("content-type"), "image/jpeg");
        let small = image::load_from_memory(&got.bytes).expect("a thumbnail decodes");
        assert_eq!((small.width(), small.height()), (320, 160));
        // A media token is not an access token.
        let me = app.get("/api/users/me", &token.token).await;
        assert_eq!(me.error_code(401), "invalid_token");
    }

    async fn a_message_may_carry_only_attachments_and_its_resend_returns_them(app) {
        let a = app.register("cal").await;
        let b = app.register("cat").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let report = app.uploaded(&a.access_token, chat.id, "report.pdf", b"%PDF-1.7\nhello".to_vec()).await;
        assert_eq!((report.content_type.as_str(), report.thumbnail_url.as_deref()), ("application/pdf", None));
        let first = app.send_with(&a.access_token, chat.id, "", &[&report.id], "only-file").await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        let again = app.send_with(&a.access_token, chat.id, "", &[&report.id], "only-file").await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(again.json::<Message>(), first.json::<Message>());
        assert_eq!(again.json::<Message>().attachments, std::slice::from_ref(&report));
        let got = app.fetch(&report.url, Some(&b.access_token), &[]).await;
        assert!(got.header("content-disposition").starts_with("attachment;"), "a PDF is a download");
        // Without attachments an empty body is still refused.
        let empty = app.send_with(&a.access_token, chat.id, " ", &[], "empty").await;
        assert_eq!(empty.error_code(422), "validation_failed");
    }

    async fn a_socket_send_claims_attachments_and_its_ack_carries_them(app) {
        let a = app.register("dan").await;
        let b = app.register("dot").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let file = app.uploaded(&a.access_token, chat.id, "notes.txt", b"plain words".to_vec()).await;
        assert_eq!(file.content_type, "application/octet-stream");
        let mut ws = app.ws(&a.access_token).await;
        ws.send_json(json!({"type": "new_message", "conversation_id": chat.id, "client_id": "ws-1", "attachment_ids": [file.id]})).await;
        let acked = ws.expect("the ack", |f| match f {
            ServerFrame::Ack { message, .. } => Some(message.clone()),
            _ => None,
        }).await;
        assert_eq!((acked.body.as_str(), acked.attachments.clone()), ("", vec![file.clone()]));
        ws.send_json(json!({"type": "new_message", "conversation_id": chat.id, "client_id": "ws-2", "body": "again", "attachment_ids": [file.id]})).await;
        let refused = ws.expect("the refusal", |f| match f {
            ServerFrame::Error { code, client_id, .. } => Some((code.clone(), client_id.clone())),
            _ => None,
        }).await;
        assert_eq!(refused, ("attachment_unavailable".to_owned(), Some("ws-2".to_owned())));
    }

    async fn a_range_request_gets_exactly_the_bytes_asked_for_and_a_current_copy_gets_304(app) {
        let a = app.register("eve").await;
        let b = app.register("eli").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let file: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut pdf = b"%PDF-1.4\n".to_vec();
        pdf.extend_from_slice(&file);
        let uploaded = app.uploaded(&a.access_token, chat.id, "big.pdf", pdf.clone()).await;
        app.send_with(&a.access_token, chat.id, "", &[&uploaded.id], "r").await;
        let part = app.fetch(&uploaded.url, Some(&b.access_token), &[("range", "bytes=100-199")]).await;
        assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(part.header("content-range"), format!("bytes 100-199/{}", pdf.len()));
        assert_eq!(part.bytes, pdf[100..200]);
        let tail = app.fetch(&uploaded.url, Some(&b.access_token), &[("range", "bytes=-10")]).await;
        assert_eq!(tail.bytes, pdf[pdf.len() - 10..]);
        let past = app.fetch(&uploaded.url, Some(&b.access_token), &[("range", "bytes=999999-")]).await;
        assert_eq!(past.status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(past.header("content-range"), format!("bytes */{}", pdf.len()));
        let etag = part.header("etag").to_owned();
        let cached = app.fetch(&uploaded.url, Some(&b.access_token), &[("if-none-match", &etag)]).await;
        assert_eq!((cached.status, cached.bytes.len()), (StatusCode::NOT_MODIFIED, 0));
    }

    async fn the_thumbnail_of_a_jpeg_with_exif_rotation_is_upright(app) {
        let a = app.register("fay").await;
        let b = app.register("fox").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let photo = app.uploaded(&a.access_token, chat.id, "photo.jpg", jpeg_with_orientation(640, 320, 6)).await;
        // Stored 640×320 sideways; shown upright it is 320 wide and 640 tall.
        assert_eq!((photo.content_type.as_str(), photo.width, photo.height), ("image/jpeg", Some(320), Some(640)));
        let got = app.fetch(&photo.thumbnail_url.clone().expect("thumbnail"), Some(&a.access_token), &[]).await;
        let thumb = image::load_from_memory(&got.bytes).expect("decodes").to_rgb8();
        assert_eq!(thumb.dimensions(), (160, 320));
        // The stored left half (red) is on top once turned a quarter clockwise; the right half (blue) below.
        let (top, bottom) = (thumb.get_pixel(80, 40), thumb.get_pixel(80, 280));
        assert!(top[0] > 200 && top[2] < 60, "top is red: {top:?}");
        assert!(bottom[2] > 200 && bottom[0] < 60, "bottom is blue: {bottom:?}");
    }

    async fn deleting_a_message_removes_its_attachments_from_storage(app) {
        let a = app.register("gus").await;
        let b = app.register("gil").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let uploaded = app.uploaded(&a.access_token, chat.id, "x.png", png(8, 8)).await;
        let sent: Message = app.send_with(&a.access_token, chat.id, "soon gone", &[&uploaded.id], "d").await.json();
        let object = app.settings.data_dir.join("attachments").join(&uploaded.id);
        assert!(object.exists(), "stored at {}", object.display());
        let deleted = app.delete(&format!("/api/conversations/{}/messages/{}", chat.id, sent.seq), &a.access_token).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        assert_eq!(app.fetch(&uploaded.url, Some(&b.access_token), &[]).await.status, StatusCode::NOT_FOUND);
        assert!(!object.exists(), "the object is gone");
        let page = app.history(&b.access_token, chat.id, "").await;
        assert!(page.messages[0].deleted && page.messages[0].attachments.is_empty());
    }

    async fn an_upload_never_sent_is_removed_after_the_grace_period_and_a_sent_one_stays(app) {
        let a = app.register("hal").await;
        let b = app.register("hem").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let kept = app.uploaded(&a.access_token, chat.id, "kept.png", png(8, 8)).await;
        app.send_with(&a.access_token, chat.id, "", &[&kept.id], "k").await;
        let dropped = app.uploaded(&a.access_token, chat.id, "dropped.png", png(8, 8)).await;
        let mut settings = app.settings.clone();
        settings.upload_grace_hours = 0.0;
        let removed = collect_garbage(&settings).await;
        assert_eq!(removed, 1);
        assert_eq!(app.fetch(&dropped.url, Some(&a.access_token), &[]).await.status, StatusCode::NOT_FOUND);
        assert!(!settings.data_dir.join("attachments").join(&dropped.id).exists());
        assert_eq!(app.fetch(&kept.url, Some(&b.access_token), &[]).await.status, StatusCode::OK);
        let late = app.send_with(&a.access_token, chat.id, "", &[&dropped.id], "late").await;
        assert_eq!(late.error_code(403), "attachment_unavailable");
    }

    async fn an_upload_on_one_instance_is_read_through_another_sharing_the_storage(app) {
        let a = app.register("ivy").await;
        let b = app.register("ian").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let other = app.sibling().await;
        let file = png(33, 17);
        let uploaded = app.uploaded(&a.access_token, chat.id, "shared.png", file.clone()).await;
        let sent = other.send_with(&a.access_token, chat.id, "", &[&uploaded.id], "s").await;
        assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
        let got = other.fetch(&uploaded.url, Some(&b.access_token), &[]).await;
        assert_eq!(sha256(&got.bytes), sha256(&file));
    }
}

/// One pass of the collector with these settings, as the server's own task runs it.
pub async fn collect_garbage(settings: &chat_server::config::Settings) -> usize {
    let db = chat_server::db::DbPool::connect(&settings.database_url, 2).await.expect("database");
    let storage =
        chat_server::storage::Storage::open(settings.storage_url.as_deref(), &settings.data_dir).expect("storage");
    let limits = chat_server::chat::attachments::UploadLimits {
        max_file_bytes: settings.max_upload_mb * 1024 * 1024,
        quota_bytes: settings.upload_quota_mb * 1024 * 1024,
        grace: std::time::Duration::from_secs_f64(settings.upload_grace_hours * 3600.0),
    };
    let attachments =
        chat_server::chat::attachments::Attachments::new(storage, limits, &settings.data_dir).expect("spool");
    chat_server::chat::attachments::collect_garbage(&db, &attachments).await.expect("collected")
}
