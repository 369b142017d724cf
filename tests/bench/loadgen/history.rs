//! `history`: what a 50-message page costs as one conversation grows (10k → 1M messages). The messages are sent
//! through the server like any others (pipelined over one socket, acks awaited), then pages are fetched over
//! REST: the newest page, and pages before a random seq (a reader scrolling back).

use std::time::{Duration, Instant};

use serde_json::json;

use super::client::{Client, Pipeline};

pub(crate) async fn history(client: &Client, sizes: &[u64], samples: usize, tag: &str) {
    let me = client.register(&format!("hist{tag}")).await;
    let conversation = client.group(&me.access_token, "history", &[]).await;
    let mut pipeline = Pipeline::open(client, &me.access_token).await;
    let mut stored = 0u64;
    for &size in sizes {
        let began = Instant::now();
        pipeline
            .store(stored, size, |n| {
                json!({"type": "new_message", "conversation_id": conversation,
                    "client_id": format!("h{n}"), "body": format!("history message number {n}")})
            })
            .await;
        stored = stored.max(size);
        eprintln!("history: {size} messages stored ({:.1?} for this step)", began.elapsed());
        let latest = time_pages(client, &me.access_token, conversation, samples, |_| String::new()).await;
        let back = time_pages(client, &me.access_token, conversation, samples, |i| {
            // Spread over the whole conversation, deterministic so runs compare.
            let before = 51 + (i as u64 * 7_919_993) % size.saturating_sub(50).max(1);
            format!("&before_seq={before}")
        })
        .await;
        println!(
            "history: {size:>8} messages | newest page p50 {:.2} ms p99 {:.2} ms | page before a random seq p50 {:.2} ms p99 {:.2} ms",
            ms(latest[latest.len() / 2]),
            ms(latest[latest.len() * 99 / 100]),
            ms(back[back.len() / 2]),
            ms(back[back.len() * 99 / 100]),
        );
    }
}

async fn time_pages(
    client: &Client,
    token: &str,
    conversation: i64,
    samples: usize,
    cursor: impl Fn(usize) -> String,
) -> Vec<Duration> {
    let mut took = Vec::with_capacity(samples);
    for i in 0..samples {
        let url = format!("{}/api/conversations/{conversation}/messages?limit=50{}", client.url, cursor(i));
        // Each page twice, timing the second read: the first read of freshly written rows pays a one-off cost
        // (PostgreSQL sets their hint bits), the same at any size, which is not what this measures.
        fetch_page(client, token, &url).await;
        let began = Instant::now();
        fetch_page(client, token, &url).await;
        took.push(began.elapsed());
    }
    took.sort();
    took
}

async fn fetch_page(client: &Client, token: &str, url: &str) {
    let reply = client.http.get(url).bearer_auth(token).send().await.expect("history");
    assert!(reply.status().is_success(), "history: {}", reply.status());
    let page: serde_json::Value = reply.json().await.expect("json");
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(50), "a full page");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
