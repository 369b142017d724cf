//! Failed logins slow the attacker down, per (username, client address), and never lock the owner out.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

const ATTACKER: &str = "203.0.113.7";
const OWNER: &str = "198.51.100.9";

/// The app behind a (pretend) proxy, so tests choose the client address with X-Forwarded-For.
async fn behind_proxy(app: &TestApp) -> TestApp {
    app.sibling_with(|s| s.behind_proxy = true).await
}

async fn attempt(app: &TestApp, name: &str, password: &str, from: &str) -> Reply {
    app.login_with(name, password, &[("x-forwarded-for", from)]).await
}

fn retry_after(reply: &Reply) -> u64 {
    reply.headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("Retry-After")
}

/// Retries while the answer is 429 (a refused attempt does not count), at most `limit`.
async fn attempt_when_allowed(app: &TestApp, name: &str, password: &str, from: &str, limit: Duration) -> Reply {
    let began = Instant::now();
    loop {
        let reply = attempt(app, name, password, from).await;
        if reply.status != StatusCode::TOO_MANY_REQUESTS {
            return reply;
        }
        assert!(began.elapsed() < limit, "still refused after {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_backends! {
    async fn hostile_thirty_bad_logins_from_one_address_do_not_lock_the_owner_out(app) {
        let app = behind_proxy(&app).await;
        app.register("bob").await;
        app.register("alice").await;
        let mut statuses = Vec::new();
        for i in 0..30 {
            let reply = attempt(&app, "bob", &format!("guess-{i:04}"), ATTACKER).await;
            if reply.status == StatusCode::TOO_MANY_REQUESTS {
                assert_eq!(reply.error_code(429), "rate_limited");
                assert!(retry_after(&reply) >= 1);
            }
            statuses.push(reply.status.as_u16());
        }
        assert_eq!(statuses[..6], [401; 6], "five free failures, and the sixth is counted");
        assert_eq!(statuses[6], 429, "then the attacker must wait");
        assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
        // The owner, from elsewhere, logs in at once.
        let owner = attempt(&app, "bob", "password-bob", OWNER).await;
        assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
        // Another account from the attacker's address is not held up either.
        assert_eq!(attempt(&app, "alice", "password-alice", ATTACKER).await.status, StatusCode::OK);
        // The attacker's own pair stays slowed, even with the right password.
        assert_eq!(attempt(&app, "BOB", "password-bob", ATTACKER).await.status, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn hostile_each_further_failure_doubles_the_attackers_wait(app) {
        let app = behind_proxy(&app).await;
        app.register("carol").await;
        for i in 0..6 {
            assert_eq!(attempt(&app, "carol", &format!("guess-{i}"), ATTACKER).await.status, StatusCode::UNAUTHORIZED);
        }
        let mut waits = Vec::new();
        for i in 0..2 {
            let refused = attempt(&app, "carol", "another-guess", ATTACKER).await;
            assert_eq!(refused.error_code(429), "rate_limited");
            waits.push(retry_after(&refused));
            let failed =
                attempt_when_allowed(&app, "carol", &format!("late-guess-{i}"), ATTACKER, Duration::from_secs(5)).await;
            assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
        }
        waits.push(retry_after(&attempt(&app, "carol", "yet-another", ATTACKER).await));
        assert_eq!(waits, [1, 2, 4]);
    }

    async fn a_successful_login_clears_the_failures_of_its_address(app) {
        let app = behind_proxy(&app).await;
        app.register("dora").await;
        for round in 0..2 {
            for i in 0..5 {
                let reply = attempt(&app, "dora", &format!("typo-{round}-{i}"), OWNER).await;
                assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "round {round}");
            }
            assert_eq!(attempt(&app, "dora", "password-dora", OWNER).await.status, StatusCode::OK);
        }
    }
}
