//! Message search: what it finds (every word, the last as a prefix while typed), in what order, with which
//! snippet; that it follows edits and deletes; that pages continue; and that it never shows a message of a
//! conversation the caller is not a member of now.

use std::collections::HashSet;

use chat_server::protocol::{SearchPage, SnippetPart};
use reqwest::StatusCode;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

impl TestApp {
    pub async fn search_reply(&self, token: &str, query: &[(&str, &str)]) -> Reply {
        let url = reqwest::Url::parse_with_params("http://x/api/search", query).expect("query");
        self.get(&format!("/api/search?{}", url.query().unwrap_or_default()), token).await
    }

    pub async fn search(&self, token: &str, q: &str) -> SearchPage {
        let reply = self.search_reply(token, &[("q", q)]).await;
        assert_eq!(reply.status, StatusCode::OK, "search {q:?}: {}", reply.body);
        reply.json()
    }
}

fn bodies(page: &SearchPage) -> Vec<&str> {
    page.results.iter().map(|h| h.message.body.as_str()).collect()
}

fn marked(parts: &[SnippetPart]) -> String {
    parts.iter().map(|p| if p.highlight { format!("[{}]", p.text) } else { p.text.clone() }).collect()
}

on_both_backends! {
    async fn search_finds_messages_with_every_word_best_match_first_with_highlighted_snippets(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        app.send(&ann.access_token, group.id, "the rust meetup is on friday").await;
        app.send(&bob.access_token, group.id, "Rust rust RUST, all week long").await;
        app.send(&bob.access_token, group.id, "nothing to see here").await;
        app.send(&bob.access_token, group.id, "friday: rust meetup, bring snacks").await;
        let page = app.search(&ann.access_token, "rust meetup ").await;
        let found: HashSet<&str> = bodies(&page).into_iter().collect();
        assert_eq!(found, HashSet::from(["the rust meetup is on friday", "friday: rust meetup, bring snacks"]));
        assert_eq!(page.next_before, None);
        let hit = page.results.iter().find(|h| h.message.body.starts_with("friday")).expect("hit");
        assert_eq!(marked(&hit.snippet), "friday: [rust] [meetup], bring snacks");
        assert_eq!(hit.message.sender_name, "bob");
        let ranked = app.search(&ann.access_token, "rust ").await;
        assert_eq!(bodies(&ranked)[0], "Rust rust RUST, all week long", "the densest match ranks first");
        assert_eq!(ranked.results.len(), 3);
    }

    async fn the_last_word_matches_longer_words_while_typed_and_whole_words_after_a_space(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        app.send(&ann.access_token, group.id, "meet me at the library").await;
        app.send(&ann.access_token, group.id, "lib is short for library").await;
        assert_eq!(app.search(&ann.access_token, "libr").await.results.len(), 2);
        assert_eq!(bodies(&app.search(&ann.access_token, "lib ").await), ["lib is short for library"]);
        assert_eq!(app.search(&ann.access_token, "librarian").await.results.len(), 0);
        let hit = &app.search(&ann.access_token, "meet libr").await.results[0];
        assert_eq!(marked(&hit.snippet), "[meet] me at the [library]");
    }

    async fn case_punctuation_and_other_scripts_do_not_hide_a_match(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        app.send(&ann.access_token, group.id, "Привет, мир! See https://example.com/docs?page=2 — café_au_lait").await;
        for q in ["привет", "МИР ", "example", "docs", "café", "lait", "page 2 "] {
            assert_eq!(app.search(&ann.access_token, q).await.results.len(), 1, "{q:?}");
        }
        assert_eq!(app.search(&ann.access_token, "cafe ").await.results.len(), 0, "accents are kept, as typed");
    }

    async fn hostile_search_never_shows_a_conversation_the_caller_left_or_was_removed_from(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let eve = app.register("eve").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id, eve.user.id]).await;
        let other = app.group(&ann.access_token, "other", &[]).await;
        app.send(&ann.access_token, group.id, "the secret plan").await;
        app.send(&ann.access_token, other.id, "another secret").await;
        assert_eq!(app.search(&eve.access_token, "secret").await.results.len(), 1);
        let kicked = app.delete(&format!("/api/conversations/{}/members/{}", group.id, eve.user.id), &ann.access_token).await;
        assert!(kicked.status.is_success(), "{}", kicked.body);
        assert!(app.search(&eve.access_token, "secret").await.results.is_empty(), "removed: nothing, at once");
        let scoped = app.search_reply(&eve.access_token, &[("q", "secret"), ("conversation_id", &group.id.to_string())]).await;
        assert_eq!(scoped.error_code(404), "not_found");
        let left = app.delete(&format!("/api/conversations/{}/members/{}", group.id, bob.user.id), &bob.access_token).await;
        assert!(left.status.is_success(), "{}", left.body);
        assert!(app.search(&bob.access_token, "secret").await.results.is_empty(), "left: nothing");
        let stranger = app.search_reply(&bob.access_token, &[("q", "secret"), ("conversation_id", &other.id.to_string())]).await;
        assert_eq!(stranger.error_code(404), "not_found");
        let nowhere = app.search_reply(&bob.access_token, &[("q", "secret"), ("conversation_id", "999999")]).await;
        assert_eq!(nowhere.error_code(404), "not_found");
        assert_eq!(app.search(&ann.access_token, "secret").await.results.len(), 2, "the owner still finds both");
    }

    async fn conversation_id_limits_the_search_to_one_conversation(app) {
        let ann = app.register("ann").await;
        let first = app.group(&ann.access_token, "one", &[]).await;
        let second = app.group(&ann.access_token, "two", &[]).await;
        app.send(&ann.access_token, first.id, "budget for march").await;
        app.send(&ann.access_token, second.id, "budget for april").await;
        let reply = app.search_reply(&ann.access_token, &[("q", "budget"), ("conversation_id", &second.id.to_string())]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(bodies(&reply.json()), ["budget for april"]);
    }

    async fn an_edited_message_is_found_by_its_new_words_and_a_deleted_one_not_at_all(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        let message = app.send(&ann.access_token, group.id, "lunch at noon").await;
        let gone = app.send(&ann.access_token, group.id, "lunch is cancelled").await;
        let path = format!("/api/conversations/{}/messages/{}", group.id, message.seq);
        let edited = app.patch(&path, &ann.access_token, &serde_json::json!({"body": "dinner at eight"})).await;
        assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
        assert_eq!(bodies(&app.search(&ann.access_token, "dinner").await), ["dinner at eight"]);
        assert_eq!(bodies(&app.search(&ann.access_token, "lunch").await), ["lunch is cancelled"]);
        let deleted = app.delete(&format!("/api/conversations/{}/messages/{}", group.id, gone.seq), &ann.access_token).await;
        assert!(deleted.status.is_success(), "{}", deleted.body);
        assert!(app.search(&ann.access_token, "lunch").await.results.is_empty());
        assert!(app.search(&ann.access_token, "cancelled").await.results.is_empty());
    }

    async fn pages_continue_from_next_before_without_repeats_or_gaps(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        for i in 0..23 {
            // Different lengths give different ranks; repeats give equal ones, which the id breaks.
            let body = format!("report {}{i}", "padding ".repeat(i % 4));
            app.send(&ann.access_token, group.id, &body).await;
        }
        let mut seen = Vec::new();
        let mut before: Option<String> = None;
        for _ in 0..10 {
            let mut query = vec![("q", "report".to_owned()), ("limit", "5".to_owned())];
            if let Some(b) = &before {
                query.push(("before", b.clone()));
            }
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let reply = app.search_reply(&ann.access_token, &query).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            let page: SearchPage = reply.json();
            assert!(page.results.len() <= 5);
            seen.extend(page.results.iter().map(|h| h.message.seq));
            before = page.next_before;
            if before.is_none() {
                break;
            }
        }
        let unique: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(seen.len(), 23, "{seen:?}");
        assert_eq!(unique, (2..=24).collect::<HashSet<i64>>(), "every message (seq 1 is the created event)");
    }

    async fn hits_carry_reactions_and_reply_previews(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        let original = app.send(&ann.access_token, group.id, "first idea").await;
        let reply = app.post(&format!("/api/conversations/{}/messages", group.id), Some(&ann.access_token),
            &serde_json::json!({"body": "a better idea", "client_id": "r1", "reply_to_seq": original.seq})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let reacted = app.react(&ann.access_token, group.id, original.seq, "👍", true).await;
        assert!(reacted.status.is_success(), "{}", reacted.body);
        let page = app.search(&ann.access_token, "idea").await;
        let first = page.results.iter().find(|h| h.message.seq == original.seq).expect("original");
        assert_eq!(first.message.reactions.len(), 1);
        let answer = page.results.iter().find(|h| h.message.seq != original.seq).expect("reply");
        assert_eq!(answer.message.reply_to.as_ref().map(|r| r.seq), Some(original.seq));
    }

    async fn hostile_malformed_searches_get_a_validation_error(app) {
        let ann = app.register("ann").await;
        let long = "x".repeat(201);
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![], "query"),
            (vec![("q", "")], "q"),
            (vec![("q", "a")], "q"),
            (vec![("q", "!!! ???")], "q"),
            (vec![("q", "one two three four five six seven eight nine")], "q"),
            (vec![("q", &long)], "q"),
            (vec![("q", "hello"), ("limit", "0")], "limit"),
            (vec![("q", "hello"), ("limit", "51")], "limit"),
            (vec![("q", "hello"), ("before", "not-a-cursor")], "before"),
            (vec![("q", "hello"), ("before", "NaN_1")], "before"),
            (vec![("q", "hello"), ("conversation_id", "x")], "query"),
        ];
        for (query, field) in cases {
            let reply = app.search_reply(&ann.access_token, &query).await;
            assert_eq!(reply.error_code(422), "validation_failed", "{query:?}");
            assert_eq!(reply.body["error"]["field"], field, "{query:?}: {}", reply.body);
        }
        let unauthenticated = app.request(reqwest::Method::GET, "/api/search?q=hello", None, None).await;
        assert_eq!(unauthenticated.error_code(401), "unauthorized");
    }

    async fn hostile_full_text_syntax_in_a_query_is_only_words(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        app.send(&ann.access_token, group.id, "near the drop zone").await;
        for q in ["\"near", "near*", "NEAR(drop zone)", "drop & !zone", "'; DROP TABLE messages; --", "zone OR x:*", "^near", "drop) | (zone"] {
            let reply = app.search_reply(&ann.access_token, &[("q", q)]).await;
            assert_eq!(reply.status, StatusCode::OK, "{q:?}: {}", reply.body);
        }
        assert_eq!(app.search(&ann.access_token, "NEAR(drop zone)").await.results.len(), 1);
        assert_eq!(app.search(&ann.access_token, "near").await.results.len(), 1, "the table is still there");
    }

    async fn hostile_the_same_search_a_thousand_times_answers_the_same_or_is_told_to_wait(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        for i in 0..5 {
            app.send(&ann.access_token, group.id, &format!("status update {i}")).await;
        }
        let expected: Vec<i64> = app.search(&ann.access_token, "status").await.results.iter().map(|h| h.message.seq).collect();
        let (mut answered, mut refused) = (0, 0);
        for _ in 0..20 {
            let replies = futures_util::future::join_all((0..50).map(|_| app.search_reply(&ann.access_token, &[("q", "status")]))).await;
            for reply in replies {
                if reply.status == StatusCode::TOO_MANY_REQUESTS {
                    // Two running at once per user; or the REST rate.
                    let code = reply.error_code(429);
                    assert!(code == "too_many_searches" || code == "rate_limited", "{code}");
                    refused += 1;
                    continue;
                }
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                let page: SearchPage = reply.json();
                assert_eq!(page.results.iter().map(|h| h.message.seq).collect::<Vec<_>>(), expected);
                answered += 1;
            }
        }
        assert!(answered > 0);
        assert!(refused > 0, "a thousand in a burst are not all served");
        assert_eq!(app.search(&ann.access_token, "status").await.results.len(), 5, "the allowance comes back");
    }
}
