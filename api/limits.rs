//! Rate limits (governor's GCRA, keyed): sign-in attempts per client address and per username, REST calls per
//! user, socket upgrades per user and per client address, and socket frames per user (shared by all of a
//! user's sockets, so opening more sockets buys no more frames).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::Settings;
use crate::error::ApiError;

pub struct RateLimits {
    behind_proxy: bool,
    auth_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_per_username: DefaultKeyedRateLimiter<String>,
    rest_per_user: DefaultKeyedRateLimiter<i64>,
    upgrades_per_user: DefaultKeyedRateLimiter<i64>,
    upgrades_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    frames_per_user: DefaultKeyedRateLimiter<i64>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(settings: &Settings) -> Self {
        let rest = NonZeroU32::new(settings.rest_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.rest_per_second.max(1).saturating_mul(10)).unwrap_or(NonZeroU32::MIN);
        RateLimits {
            behind_proxy: settings.behind_proxy,
            auth_per_ip: DefaultKeyedRateLimiter::keyed(per_minute(settings.auth_per_minute)),
            login_per_username: DefaultKeyedRateLimiter::keyed(per_minute(settings.login_per_minute_per_username)),
            rest_per_user: DefaultKeyedRateLimiter::keyed(Quota::per_second(rest).allow_burst(burst)),
            upgrades_per_user: DefaultKeyedRateLimiter::keyed(per_minute(settings.ws_upgrades_per_minute_per_user)),
            upgrades_per_ip: DefaultKeyedRateLimiter::keyed(per_minute(settings.ws_upgrades_per_minute_per_address)),
            frames_per_user: DefaultKeyedRateLimiter::keyed(frames_quota(settings.ws_frames_per_sec)),
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

    /// A register or login attempt from `ip` (and for `username`, on login).
    pub fn auth_attempt(&self, ip: Option<IpAddr>, username: Option<&str>) -> Result<(), ApiError> {
        if let Some(ip) = ip {
            check(&self.auth_per_ip, &ip)?;
        }
        if let Some(name) = username {
            check(&self.login_per_username, &name.trim().to_lowercase())?;
        }
        Ok(())
    }

    pub fn rest_call(&self, user_id: i64) -> Result<(), ApiError> {
        check(&self.rest_per_user, &user_id)
    }

    /// A socket upgrade by `user_id` from `ip`.
    pub fn socket_upgrade(&self, user_id: i64, ip: Option<IpAddr>) -> Result<(), ApiError> {
        if let Some(ip) = ip {
            check(&self.upgrades_per_ip, &ip)?;
        }
        check(&self.upgrades_per_user, &user_id)
    }

    /// One client frame of `user_id`'s, on whichever socket: false when over the allowance.
    pub fn socket_frame(&self, user_id: i64) -> bool {
        let allowed = self.frames_per_user.check_key(&user_id).is_ok();
        if !allowed {
            metrics::counter!("chat_rate_limited_total").increment(1);
        }
        allowed
    }

    /// Forget keys that are back to full allowance (run now and then, so the maps do not grow without bound).
    pub fn forget_idle(&self) {
        self.auth_per_ip.retain_recent();
        self.login_per_username.retain_recent();
        self.rest_per_user.retain_recent();
        self.upgrades_per_user.retain_recent();
        self.upgrades_per_ip.retain_recent();
        self.frames_per_user.retain_recent();
    }
}

/// `per_second` sustained (fractions allowed), bursts of twice that.
fn frames_quota(per_second: f64) -> Quota {
    let per_second = if per_second.is_finite() && per_second > 0.0 { per_second } else { 1.0 };
    let period = std::time::Duration::from_secs_f64(1.0 / per_second).max(std::time::Duration::from_nanos(1));
    let burst = NonZeroU32::new((per_second * 2.0).ceil().min(f64::from(u32::MAX)) as u32).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period).map_or_else(|| Quota::per_second(NonZeroU32::MIN), |q| q.allow_burst(burst))
}

fn check<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), ApiError> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        metrics::counter!("chat_rate_limited_total").increment(1);
        ApiError::RateLimited(wait.as_secs().max(1))
    })
}
