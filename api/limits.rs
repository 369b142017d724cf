//! Rate limits: sign-in attempts per client address, REST calls per user (and per API token), posts per incoming
//! webhook, socket upgrades per user and per client
//! address, and socket frames per user (shared by all of a user's sockets, so opening more buys no more frames) —
//! governor's GCRA, keyed; and growing delays after failed sign-ins per (username or account, client address).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::Settings;
use crate::ids::{SessionId, UserId};

/// Over a limit: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Too many requests; retry in {retry_after_secs} s.")]
pub struct Limited {
    pub retry_after_secs: u64,
}

pub struct RateLimits {
    behind_proxy: bool,
    auth_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    rest_per_user: DefaultKeyedRateLimiter<UserId>,
    rest_per_token: DefaultKeyedRateLimiter<SessionId>,
    posts_per_webhook: DefaultKeyedRateLimiter<i64>,
    upgrades_per_user: DefaultKeyedRateLimiter<UserId>,
    upgrades_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    frames_per_user: DefaultKeyedRateLimiter<UserId>,
    failed_sign_ins: FailedSignIns,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(settings: &Settings) -> Self {
        let rest = NonZeroU32::new(settings.rest_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.rest_per_second.max(1).saturating_mul(10)).unwrap_or(NonZeroU32::MIN);
        let token_rest = NonZeroU32::new(settings.token_rest_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let token_burst =
            NonZeroU32::new(settings.token_rest_per_second.max(1).saturating_mul(10)).unwrap_or(NonZeroU32::MIN);
        RateLimits {
            behind_proxy: settings.behind_proxy,
            auth_per_ip: DefaultKeyedRateLimiter::keyed(per_minute(settings.auth_per_minute)),
            rest_per_user: DefaultKeyedRateLimiter::keyed(Quota::per_second(rest).allow_burst(burst)),
            rest_per_token: DefaultKeyedRateLimiter::keyed(Quota::per_second(token_rest).allow_burst(token_burst)),
            posts_per_webhook: DefaultKeyedRateLimiter::keyed(per_minute(settings.webhook_posts_per_minute)),
            upgrades_per_user: DefaultKeyedRateLimiter::keyed(per_minute(settings.ws_upgrades_per_minute_per_user)),
            upgrades_per_ip: DefaultKeyedRateLimiter::keyed(per_minute(settings.ws_upgrades_per_minute_per_address)),
            frames_per_user: DefaultKeyedRateLimiter::keyed(frames_quota(settings.ws_frames_per_sec)),
            failed_sign_ins: FailedSignIns::new(Backoff::default()),
        }
    }

    /// The client's address: the peer, or behind a trusted proxy the last address it appended to
    /// X-Forwarded-For (earlier entries come from the client and can be forged).
    pub fn client_ip(&self, req: &actix_web::HttpRequest) -> Option<IpAddr> {
        if self.behind_proxy {
            let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
            if let Some(ip) = forwarded.and_then(|v| v.rsplit(',').next()).and_then(|ip| ip.trim().parse().ok()) {
                return Some(ip);
            }
        }
        req.peer_addr().map(|a| a.ip())
    }

    /// A register or login attempt from `ip`.
    pub fn auth_attempt(&self, ip: Option<IpAddr>) -> Result<(), Limited> {
        match ip {
            Some(ip) => check(&self.auth_per_ip, &ip),
            None => Ok(()),
        }
    }

    /// Run a password check for `subject` from `ip`, unless recent failures from that address for that
    /// subject ask it to wait (429 with Retry-After). A wrong password or username counts as a failure; a
    /// success clears them. Failures elsewhere (another address) do not count: an attacker cannot lock the
    /// owner out.
    pub async fn sign_in<T, E>(
        &self,
        subject: Subject,
        ip: Option<IpAddr>,
        attempt: impl Future<Output = Result<T, E>>,
        wrong_secret: impl FnOnce(&E) -> bool,
    ) -> Result<Result<T, E>, Limited> {
        let key = (subject, ip);
        if let Err(wait) = self.failed_sign_ins.check(&key, Instant::now()) {
            metrics::counter!("chat_rate_limited_total").increment(1);
            return Err(Limited { retry_after_secs: ceil_secs(wait) });
        }
        let outcome = attempt.await;
        match &outcome {
            Ok(_) => self.failed_sign_ins.succeeded(&key),
            Err(err) if wrong_secret(err) => self.failed_sign_ins.failed(key, Instant::now()),
            Err(_) => {}
        }
        Ok(outcome)
    }

    pub fn rest_call(&self, user_id: UserId) -> Result<(), Limited> {
        check(&self.rest_per_user, &user_id)
    }

    /// A REST call with the API token `token` (on top of its user's allowance, which all their tokens share).
    pub fn token_call(&self, token: SessionId) -> Result<(), Limited> {
        check(&self.rest_per_token, &token)
    }

    /// A post to the incoming webhook `webhook_id`.
    pub fn webhook_post(&self, webhook_id: i64) -> Result<(), Limited> {
        check(&self.posts_per_webhook, &webhook_id)
    }

    /// A socket upgrade by `user_id` from `ip`.
    pub fn socket_upgrade(&self, user_id: UserId, ip: Option<IpAddr>) -> Result<(), Limited> {
        if let Some(ip) = ip {
            check(&self.upgrades_per_ip, &ip)?;
        }
        check(&self.upgrades_per_user, &user_id)
    }

    /// One client frame of `user_id`'s, on whichever socket: false when over the allowance.
    pub fn socket_frame(&self, user_id: UserId) -> bool {
        let allowed = self.frames_per_user.check_key(&user_id).is_ok();
        if !allowed {
            metrics::counter!("chat_rate_limited_total").increment(1);
        }
        allowed
    }

    /// Forget keys that are back to full allowance (run now and then, so the maps do not grow without bound).
    pub fn forget_idle(&self) {
        self.auth_per_ip.retain_recent();
        self.rest_per_user.retain_recent();
        self.rest_per_token.retain_recent();
        self.posts_per_webhook.retain_recent();
        self.upgrades_per_user.retain_recent();
        self.upgrades_per_ip.retain_recent();
        self.frames_per_user.retain_recent();
        self.failed_sign_ins.forget_idle(Instant::now());
    }
}

/// `per_second` sustained (fractions allowed), bursts of twice that.
fn frames_quota(per_second: f64) -> Quota {
    let per_second = if per_second.is_finite() && per_second > 0.0 { per_second } else { 1.0 };
    let period = std::time::Duration::from_secs_f64(1.0 / per_second).max(std::time::Duration::from_nanos(1));
    let burst = NonZeroU32::new((per_second * 2.0).ceil().min(f64::from(u32::MAX)) as u32).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period).map_or_else(|| Quota::per_second(NonZeroU32::MIN), |q| q.allow_burst(burst))
}

fn ceil_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

fn check<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Limited> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        metrics::counter!("chat_rate_limited_total").increment(1);
        Limited { retry_after_secs: wait.as_secs().max(1) }
    })
}

/// What failed sign-ins are counted against (together with the client address).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A login's username, as typed (trimmed, lower-cased: as it would be looked up).
    Username(String),
    /// An account re-entering its password (a password change).
    Account(UserId),
}

impl Subject {
    pub fn username(raw: &str) -> Self {
        Subject::Username(raw.trim().to_lowercase())
    }
}

/// Growing delays: `free` failures within `window` cost nothing; each one after that makes the next attempt
/// wait `first`, then twice as long each time, up to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub free: u32,
    pub window: Duration,
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            free: 5,
            window: Duration::from_secs(15 * 60),
            first: Duration::from_secs(1),
            max: Duration::from_secs(15 * 60),
        }
    }
}

impl Backoff {
    /// The wait after the `failures`-th failure in a row.
    pub fn delay(&self, failures: u32) -> Duration {
        if failures <= self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free - 1).min(31);
        self.first.saturating_mul(1u32 << doublings).min(self.max)
    }
}

struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Instant,
}

type FailureKey = (Subject, Option<IpAddr>);

/// Failed sign-ins per (subject, address), bounded in memory: idle keys are swept, and past
/// [`FailedSignIns::MAX_KEYS`] the longest-idle key makes room.
pub struct FailedSignIns {
    backoff: Backoff,
    entries: Mutex<HashMap<FailureKey, Failures>>,
}

impl FailedSignIns {
    pub const MAX_KEYS: usize = 100_000;

    pub fn new(backoff: Backoff) -> Self {
        FailedSignIns { backoff, entries: Mutex::new(HashMap::new()) }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<FailureKey, Failures>> {
        // A poisoned lock only means a panic mid-update of plain counters: keep using them.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ok, or how long the next attempt must wait.
    pub fn check(&self, key: &FailureKey, now: Instant) -> Result<(), Duration> {
        match self.entries().get(key) {
            Some(f) if f.blocked_until > now => Err(f.blocked_until - now),
            _ => Ok(()),
        }
    }

    pub fn failed(&self, key: FailureKey, now: Instant) {
        let mut entries = self.entries();
        if !entries.contains_key(&key) && entries.len() >= Self::MAX_KEYS {
            self.sweep(&mut entries, now);
            if entries.len() >= Self::MAX_KEYS
                && let Some(oldest) = entries.iter().min_by_key(|(_, f)| f.last).map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        let entry = entries.entry(key).or_insert(Failures { count: 0, last: now, blocked_until: now });
        if now.duration_since(entry.last) > self.backoff.window {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        entry.blocked_until = now + self.backoff.delay(entry.count);
    }

    pub fn succeeded(&self, key: &FailureKey) {
        self.entries().remove(key);
    }

    pub fn forget_idle(&self, now: Instant) {
        let mut entries = self.entries();
        self.sweep(&mut entries, now);
    }

    fn sweep(&self, entries: &mut HashMap<FailureKey, Failures>, now: Instant) {
        entries.retain(|_, f| f.blocked_until > now || now.duration_since(f.last) <= self.backoff.window);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, ip: &str) -> FailureKey {
        (Subject::username(name), Some(ip.parse().unwrap()))
    }

    #[test]
    fn delays_grow_from_one_second_doubling_up_to_fifteen_minutes() {
        let backoff = Backoff::default();
        let delays: Vec<u64> = (1..=18).map(|n| backoff.delay(n).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(900));
    }

    #[test]
    fn hostile_an_attacker_waits_ever_longer_while_the_owner_elsewhere_is_not_held_up() {
        let tracker = FailedSignIns::new(Backoff::default());
        let attacker = key("Bob", "203.0.113.7");
        let owner = key("bob", "198.51.100.9");
        let mut now = Instant::now();
        for _ in 0..5 {
            assert!(tracker.check(&attacker, now).is_ok());
            tracker.failed(attacker.clone(), now);
        }
        assert!(tracker.check(&attacker, now).is_ok(), "five failures are free");
        let mut waits = Vec::new();
        for _ in 0..6 {
            tracker.failed(attacker.clone(), now);
            let wait = tracker.check(&attacker, now).expect_err("must wait");
            waits.push(wait.as_secs());
            now += wait;
            assert!(tracker.check(&attacker, now).is_ok(), "allowed again once the wait is over");
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32]);
        assert!(tracker.check(&owner, now).is_ok(), "another address is not held up");
        assert!(tracker.check(&key("alice", "203.0.113.7"), now).is_ok(), "nor another name");
    }

    #[test]
    fn a_success_clears_the_failures_and_a_quiet_window_forgives_them() {
        let tracker = FailedSignIns::new(Backoff::default());
        let k = key("carol", "192.0.2.1");
        let now = Instant::now();
        for _ in 0..6 {
            tracker.failed(k.clone(), now);
        }
        assert!(tracker.check(&k, now).is_err());
        tracker.succeeded(&k);
        assert!(tracker.check(&k, now).is_ok());
        for _ in 0..5 {
            tracker.failed(k.clone(), now);
        }
        // Fifteen quiet minutes later the count starts over: the next failure is free again.
        let later = now + Duration::from_secs(15 * 60 + 1);
        tracker.failed(k.clone(), later);
        assert!(tracker.check(&k, later).is_ok());
    }

    #[test]
    fn memory_is_bounded_idle_keys_are_swept_and_the_map_has_a_ceiling() {
        let tracker = FailedSignIns::new(Backoff::default());
        let now = Instant::now();
        for i in 0..1000 {
            tracker.failed(key(&format!("user{i}"), "192.0.2.1"), now);
        }
        assert_eq!(tracker.len(), 1000);
        tracker.forget_idle(now + Duration::from_secs(15 * 60 + 1));
        assert!(tracker.is_empty(), "a key idle for the window is forgotten");
        for i in 0..FailedSignIns::MAX_KEYS + 10 {
            tracker.failed((Subject::Account(UserId(i as i64)), None), now);
        }
        assert_eq!(tracker.len(), FailedSignIns::MAX_KEYS);
    }
}
