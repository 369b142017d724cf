//! `search`: what a search costs at 1M stored messages. One user writes `messages` messages spread over `rooms`
//! groups (pipelined over one socket, acks awaited, as `history` does); a second user is a member of `visible`
//! of those groups only, so the index holds ten times what the searcher may see. Bodies are eight words drawn
//! from a Zipf-like vocabulary, plus marker words at known frequencies, so each query's selectivity is known:
//! `common` (30% of messages), `weekly` (3%), `zephyr` (0.01%), the prefix `comm`, two words, one conversation.
//! Each query is timed over REST as the searcher (first page, 20 hits).

use std::time::{Duration, Instant};

use serde_json::json;

use super::client::{Client, Pipeline};

const VOCABULARY: u64 = 5000;

/// A small deterministic generator (xorshift), so runs on both backends store the same bodies.
struct Words(u64);

impl Words {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Word ranks roughly Zipf-distributed: rank = VOCABULARY^u for uniform u.
    fn word(&mut self) -> String {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        format!("w{}", (VOCABULARY as f64).powf(u) as u64)
    }

    /// Markers drawn independently of the room a message goes to, so the searcher sees a tenth of each.
    fn body(&mut self) -> String {
        let mut words: Vec<String> = (0..8).map(|_| self.word()).collect();
        let draw = self.next() % 1_000_000;
        if draw < 300_000 {
            words.push("common".into());
        }
        if draw % 100 < 3 {
            words.push("weekly".into());
        }
        if self.next().is_multiple_of(10_000) {
            words.push("zephyr".into());
        }
        words.join(" ")
    }
}

pub(crate) async fn search(client: &Client, messages: u64, rooms: usize, visible: usize, samples: usize, tag: &str) {
    let writer = client.register(&format!("srchw{tag}")).await;
    let reader = client.register(&format!("srchr{tag}")).await;
    let mut ids = Vec::with_capacity(rooms);
    for r in 0..rooms {
        let members: &[i64] = if r < visible { &[reader.user.id] } else { &[] };
        ids.push(client.group(&writer.access_token, &format!("search {r}"), members).await);
    }
    let began = Instant::now();
    let mut pipeline = Pipeline::open(client, &writer.access_token).await;
    let mut words = Words(0x9E37_79B9_7F4A_7C15);
    let step = 100_000;
    for from in (0..messages).step_by(step as usize) {
        let to = (from + step).min(messages);
        pipeline
            .store(from, to, |n| {
                json!({"type": "new_message", "conversation_id": ids[n as usize % rooms],
                    "client_id": format!("s{n}"), "body": words.body()})
            })
            .await;
        eprintln!("search: {to} messages stored ({:.1?})", began.elapsed());
    }
    println!(
        "search: {messages} messages in {rooms} groups stored in {:.1?}; the searcher is a member of {visible} ({} messages)",
        began.elapsed(),
        messages * visible as u64 / rooms as u64
    );
    let one = ids[0].to_string();
    let queries: [(&str, Vec<(&str, &str)>); 6] = [
        ("common word (30%)", vec![("q", "common ")]),
        ("weekly (3%)", vec![("q", "weekly ")]),
        ("rare word (0.01%)", vec![("q", "zephyr ")]),
        ("prefix comm*", vec![("q", "comm")]),
        ("two words", vec![("q", "common weekly ")]),
        ("common, one conversation", vec![("q", "common "), ("conversation_id", one.as_str())]),
    ];
    for (label, query) in queries {
        let url = reqwest::Url::parse_with_params(&format!("{}/api/search", client.url), &query).expect("url");
        let mut hits = 0;
        let mut took = Vec::with_capacity(samples);
        for _ in 0..samples {
            let began = Instant::now();
            let reply = client.http.get(url.clone()).bearer_auth(&reader.access_token).send().await.expect("search");
            assert!(reply.status().is_success(), "search {label}: {}", reply.status());
            let page: serde_json::Value = reply.json().await.expect("json");
            took.push(began.elapsed());
            hits = page["results"].as_array().map_or(0, Vec::len);
        }
        took.sort();
        println!(
            "search: {label:<26} | {hits:>2} hits on the first page | p50 {:>7.2} ms  p99 {:>7.2} ms",
            ms(took[took.len() / 2]),
            ms(took[took.len() * 99 / 100])
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
