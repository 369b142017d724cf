//! Which browser origins may use the API and open sockets: the public origin(s) the server is reached at
//! (CHAT_PUBLIC_ORIGIN; by default the listener's own loopback addresses) plus CHAT_ALLOWED_ORIGINS. Never the
//! `Host` header: whoever sends the request chooses it, so a page from anywhere could claim to be same-origin.

use actix_web::http::header::HeaderValue;

#[derive(Debug, Clone)]
pub struct AllowedOrigins {
    /// Serialised as browsers send them: `scheme://host[:port]`, lower-case, default port left out.
    origins: Vec<String>,
}

/// An origin as browsers send it, from a configured value; an error names what is wrong.
pub fn parse_origin(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not an origin (scheme://host[:port]): {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{raw:?} is not an http(s) origin"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{raw:?} is not an origin: it has more than scheme://host[:port]"));
    }
    if !matches!(url.path(), "" | "/") {
        return Err(format!("{raw:?} is not an origin: it has a path"));
    }
    Ok(url.origin().ascii_serialization())
}

impl AllowedOrigins {
    /// `public` (or, when empty, the listener's own loopback origins on `port`) plus `extra`.
    pub fn new(public: &[String], extra: &[String], port: u16) -> Result<Self, String> {
        let configured = |values: &[String]| -> Result<Vec<String>, String> {
            values.iter().filter(|v| !v.trim().is_empty()).map(|v| parse_origin(v)).collect()
        };
        let mut origins = configured(public)?;
        if origins.is_empty() {
            origins = Self::defaults(port);
        }
        for origin in configured(extra)? {
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(AllowedOrigins { origins })
    }

    /// Where a browser on this machine reaches the listener.
    pub fn defaults(port: u16) -> Vec<String> {
        ["127.0.0.1", "localhost", "[::1]"].iter().map(|host| format!("http://{host}:{port}")).collect()
    }

    pub fn permits(&self, origin: &str) -> bool {
        self.origins.iter().any(|allowed| allowed == origin)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.origins.iter().map(String::as_str)
    }

    /// The web client's CSP: its own scripts only, no framing, and connections only to itself and these
    /// origins (each also as its WebSocket form), not to any ws:/wss: URL.
    pub fn content_security_policy(&self) -> HeaderValue {
        let mut connect = vec!["'self'".to_owned()];
        for origin in &self.origins {
            connect.push(origin.clone());
            if let Some(rest) = origin.strip_prefix("https://") {
                connect.push(format!("wss://{rest}"));
            } else if let Some(rest) = origin.strip_prefix("http://") {
                connect.push(format!("ws://{rest}"));
            }
        }
        let policy = format!(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
             connect-src {}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            connect.join(" ")
        );
        // Origins are ASCII serialisations without control characters: a valid header value.
        HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_origins_are_read_as_browsers_send_them() {
        assert_eq!(parse_origin(" https://Chat.Example.com/ ").unwrap(), "https://chat.example.com");
        assert_eq!(parse_origin("https://chat.example.com:443").unwrap(), "https://chat.example.com");
        assert_eq!(parse_origin("http://chat.example.com:8080").unwrap(), "http://chat.example.com:8080");
        for bad in [
            "chat.example.com",
            "ftp://x.example",
            "https://x.example/app",
            "https://x.example/?a=1",
            "https://u@x.example",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn without_a_public_origin_the_listeners_own_loopback_origins_are_admitted() {
        let origins = AllowedOrigins::new(&[], &["https://app.example".into()], 8123).unwrap();
        assert!(origins.permits("http://127.0.0.1:8123"));
        assert!(origins.permits("http://localhost:8123"));
        assert!(origins.permits("http://[::1]:8123"));
        assert!(origins.permits("https://app.example"));
        assert!(!origins.permits("http://127.0.0.1:8124"));
        let public = AllowedOrigins::new(&["https://chat.example.com".into()], &[], 8123).unwrap();
        assert!(public.permits("https://chat.example.com"));
        assert!(!public.permits("http://127.0.0.1:8123"), "a public origin replaces the defaults");
    }

    #[test]
    fn the_csp_connects_only_to_the_admitted_origins_and_their_sockets() {
        let origins =
            AllowedOrigins::new(&["https://chat.example.com".into()], &["http://dev.example:5173".into()], 1).unwrap();
        let csp = origins.content_security_policy();
        let csp = csp.to_str().unwrap();
        assert!(
            csp.contains(
                "connect-src 'self' https://chat.example.com wss://chat.example.com http://dev.example:5173 \
                 ws://dev.example:5173;"
            ),
            "{csp}"
        );
        assert!(!csp.contains(" ws: ") && !csp.contains(" wss: "), "{csp}");
    }
}
