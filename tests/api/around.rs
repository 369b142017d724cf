//! History around a seq (to open a search result or a quoted message in context), and `has_newer` on every page.

use chat_server::protocol::{MessagePage, ServerFrame, Session};
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

fn seqs(page: &MessagePage) -> Vec<i64> {
    page.messages.iter().map(|m| m.seq).collect()
}

async fn conversation_of(app: &TestApp, n: usize) -> (Session, i64) {
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    // A direct chat: its seqs are its messages' (a group's seq 1 is the event that created it).
    let chat = app.direct(&ann.access_token, bob.user.id).await;
    for i in 1..=n {
        app.send(&ann.access_token, chat.id, &format!("m{i}")).await;
    }
    (ann, chat.id)
}

on_both_backends! {
    async fn around_seq_puts_the_message_in_the_middle_of_its_page(app) {
        let (ann, id) = conversation_of(&app, 30).await;
        let page = app.history(&ann.access_token, id, "?around_seq=15&limit=10").await;
        assert_eq!(seqs(&page), (10..=19).collect::<Vec<_>>());
        assert!(page.has_more, "older messages remain");
        assert!(page.has_newer, "newer messages remain");
    }

    async fn around_seq_near_either_end_says_which_way_more_lies(app) {
        let (ann, id) = conversation_of(&app, 30).await;
        let start = app.history(&ann.access_token, id, "?around_seq=2&limit=10").await;
        assert_eq!(seqs(&start), (1..=10).collect::<Vec<_>>(), "the short side leaves its room to the other");
        assert!(!start.has_more);
        assert!(start.has_newer);
        let end = app.history(&ann.access_token, id, "?around_seq=29&limit=10").await;
        assert_eq!(seqs(&end), (21..=30).collect::<Vec<_>>());
        assert!(end.has_more);
        assert!(!end.has_newer);
        let beyond = app.history(&ann.access_token, id, "?around_seq=500&limit=4").await;
        assert_eq!(seqs(&beyond), [27, 28, 29, 30], "the newest older ones; nothing at or after it");
        assert!(!beyond.has_newer);
        let one = app.history(&ann.access_token, id, "?around_seq=7&limit=1").await;
        assert_eq!(seqs(&one), [7]);
        assert!(one.has_more && one.has_newer);
    }

    async fn every_page_says_whether_newer_messages_exist(app) {
        let (ann, id) = conversation_of(&app, 12).await;
        let latest = app.history(&ann.access_token, id, "?limit=5").await;
        assert_eq!((seqs(&latest), latest.has_newer), ((8..=12).collect(), false));
        let back = app.history(&ann.access_token, id, "?before_seq=8&limit=5").await;
        assert_eq!((seqs(&back), back.has_newer), ((3..=7).collect(), true));
        let catch_up = app.history(&ann.access_token, id, "?after_seq=5&limit=5").await;
        assert_eq!((catch_up.has_more, catch_up.has_newer), (true, true));
        let caught_up = app.history(&ann.access_token, id, "?after_seq=10&limit=5").await;
        assert_eq!((seqs(&caught_up), caught_up.has_more, caught_up.has_newer), (vec![11, 12], false, false));
        let first = app.history(&ann.access_token, id, "?before_seq=1").await;
        assert_eq!((seqs(&first), first.has_newer), (vec![], true));
    }

    async fn hostile_around_seq_with_another_cursor_or_below_one_is_refused(app) {
        let (ann, id) = conversation_of(&app, 3).await;
        for query in ["?around_seq=0", "?around_seq=-4", "?around_seq=2&before_seq=3", "?around_seq=2&after_seq=1", "?around_seq=x"] {
            let reply = app.get(&format!("/api/conversations/{id}/messages{query}"), &ann.access_token).await;
            assert_eq!(reply.error_code(422), "validation_failed", "{query}");
        }
        let stranger = app.register("eve").await;
        let reply = app.get(&format!("/api/conversations/{id}/messages?around_seq=2"), &stranger.access_token).await;
        assert_eq!(reply.error_code(404), "not_found");
    }

    async fn a_socket_fetches_the_page_around_a_seq(app) {
        let (ann, id) = conversation_of(&app, 20).await;
        let mut socket = app.ws(&ann.access_token).await;
        socket.send_json(json!({"type": "fetch_messages", "conversation_id": id, "around_seq": 10, "limit": 4})).await;
        let (got, has_more, has_newer) = socket.expect("the page", |f| match f {
            ServerFrame::Messages { messages, has_more, has_newer, .. } => {
                Some((messages.iter().map(|m| m.seq).collect::<Vec<_>>(), *has_more, *has_newer))
            }
            _ => None,
        }).await;
        assert_eq!((got, has_more, has_newer), (vec![8, 9, 10, 11], true, true));
        socket.send_json(json!({"type": "fetch_messages", "conversation_id": id, "around_seq": 3, "before_seq": 9})).await;
        let code = socket.expect("an error frame", |f| match f {
            ServerFrame::Error { code, .. } => Some(code.clone()),
            _ => None,
        }).await;
        assert_eq!(code, "validation_failed");
    }
}
