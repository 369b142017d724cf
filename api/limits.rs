//! Rate limits (governor's GCRA, keyed): sign-in attempts per client address and per username, REST calls per
//! user. Socket frames have their own bucket per socket (realtime::session).

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

    /// Forget keys that are back to full allowance (run now and then, so the maps do not grow without bound).
    pub fn forget_idle(&self) {
        self.auth_per_ip.retain_recent();
        self.login_per_username.retain_recent();
        self.rest_per_user.retain_recent();
    }
}

fn check<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), ApiError> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        metrics::counter!("chat_rate_limited_total").increment(1);
        ApiError::RateLimited(wait.as_secs().max(1))
    })
}
