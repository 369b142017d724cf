//! What a caller may do: a password session may do everything; an API token only what its scopes allow. Each
//! route says what it needs (the route table in `routes`), and the socket checks the same per frame.

use crate::domain::ValidationError;

pub use crate::protocol::ApiTokenScope as Scope;

const ALL: [Scope; 3] = [Scope::Read, Scope::Send, Scope::Manage];

fn bit(scope: Scope) -> u8 {
    match scope {
        Scope::Read => 1,
        Scope::Send => 2,
        Scope::Manage => 4,
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// The scopes a request names: at least one (repeats are harmless).
    pub fn parse(list: &[Scope]) -> Result<Scopes, ValidationError> {
        let scopes = Scopes(list.iter().fold(0, |bits, s| bits | bit(*s)));
        if scopes.0 == 0 {
            return Err(ValidationError::new("scopes", "Name at least one scope: read, send or manage."));
        }
        Ok(scopes)
    }

    /// As stored: a comma-separated list. Unknown names in storage (from a newer version) grant nothing.
    pub fn from_stored(stored: &str) -> Scopes {
        Scopes(
            stored
                .split(',')
                .filter_map(|name| ALL.into_iter().find(|s| s.as_str() == name))
                .fold(0, |bits, s| bits | bit(s)),
        )
    }

    pub fn to_stored(self) -> String {
        self.names().join(",")
    }

    pub fn names(self) -> Vec<&'static str> {
        self.list().into_iter().map(Scope::as_str).collect()
    }

    pub fn list(self) -> Vec<Scope> {
        ALL.into_iter().filter(|s| self.contains(*s)).collect()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & bit(scope) != 0
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A login (password) session's access token, or a ticket of one.
    Session,
    /// An API token with these scopes.
    Token(Scopes),
}

/// What a route or frame needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: callable without credentials.
    Open,
    Scope(Scope),
    /// A password session: credentials (tokens, webhooks), the account and its sessions. A token cannot mint
    /// tokens or lock its owner out.
    Session,
}

impl Access {
    /// Ok, or why not (the message of a 403 `insufficient_scope`).
    pub fn allows(self, need: Need) -> Result<(), String> {
        match (self, need) {
            (Access::Session, _) | (_, Need::Open) => Ok(()),
            (Access::Token(scopes), Need::Scope(scope)) if scopes.contains(scope) => Ok(()),
            (Access::Token(_), Need::Scope(scope)) => {
                Err(format!("This API token lacks the `{}` scope this needs.", scope.as_str()))
            }
            (Access::Token(_), Need::Session) => {
                Err("API tokens cannot do this: it needs a login session (tokens, webhooks, the account).".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_storage_in_a_fixed_order() {
        let scopes = Scopes::parse(&[Scope::Send, Scope::Read, Scope::Send]).unwrap();
        assert_eq!(scopes.to_stored(), "read,send");
        assert_eq!(Scopes::from_stored("read,send"), scopes);
        assert_eq!(Scopes::from_stored("read,admin"), Scopes::parse(&[Scope::Read]).unwrap());
    }

    #[test]
    fn no_scopes_are_refused() {
        assert_eq!(Scopes::parse(&[]).unwrap_err().field, "scopes");
    }

    #[test]
    fn a_token_may_do_what_its_scopes_name_and_never_what_needs_a_session() {
        let read = Access::Token(Scopes::parse(&[Scope::Read]).unwrap());
        assert!(read.allows(Need::Scope(Scope::Read)).is_ok());
        assert!(read.allows(Need::Scope(Scope::Send)).unwrap_err().contains("`send`"));
        let all = Access::Token(Scopes::parse(&[Scope::Read, Scope::Send, Scope::Manage]).unwrap());
        assert!(all.allows(Need::Session).is_err());
        assert!(all.allows(Need::Open).is_ok());
        assert!(Access::Session.allows(Need::Session).is_ok());
    }
}
