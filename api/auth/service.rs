//! Account rules as plain functions over a connection: register, log in, change the password. Sessions are in
//! [`super::sessions`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{AuthError, AuthKeys, AuthUser, Hasher, sessions};
use crate::db::models::{NewUser, UserRow};
use crate::db::{self, DbConn, users};
use crate::domain::{DisplayName, Password, Username, ValidationError};
use crate::protocol::{ChangePasswordRequest, LoginRequest, RegisterRequest, Session, User};
use crate::realtime::Realtime;

pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS RNG failing leaves nothing safe to do: tokens must never be predictable.
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 (hex) of an opaque token: what is stored, so a leaked table cannot be replayed.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn public_user(row: &UserRow) -> User {
    User {
        id: row.id.get(),
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        online: None,
        last_seen_at: None,
    }
}

/// The user as someone who may know their presence sees them: `online`, and when they were last seen.
pub fn visible_user(row: &UserRow, online: bool) -> User {
    User {
        online: Some(online),
        last_seen_at: row.last_seen_at.map(|at| chrono::DateTime::from_naive_utc_and_offset(at, chrono::Utc)),
        ..public_user(row)
    }
}

pub async fn register(
    conn: &mut DbConn,
    keys: &AuthKeys,
    hasher: &Hasher,
    realtime: &Realtime,
    req: RegisterRequest,
    device: Option<&str>,
) -> Result<Session, AuthError> {
    let username = Username::parse(&req.username)?;
    let password = Password::parse(&req.password)?;
    let display_name = match req.display_name.as_deref() {
        Some(raw) => DisplayName::parse(raw)?,
        None => DisplayName::parse(username.as_str())?,
    };
    if users::by_username(conn, username.as_str()).await?.is_some() {
        return Err(AuthError::UsernameTaken);
    }
    let password_hash = hasher.hash(password.expose().to_owned()).await?;
    let new = NewUser {
        username: username.as_str(),
        display_name: display_name.as_str(),
        password_hash: &password_hash,
        created_at: db::now(),
    };
    let user = match users::insert(conn, &new).await {
        Ok(user) => user,
        // Two registrations raced for the name: the database's UNIQUE decided.
        Err(e) if e.is_unique_violation() => return Err(AuthError::UsernameTaken),
        Err(e) => return Err(e.into()),
    };
    sessions::start(conn, keys, realtime, &user, device).await
}

pub async fn login(
    conn: &mut DbConn,
    keys: &AuthKeys,
    hasher: &Hasher,
    realtime: &Realtime,
    req: LoginRequest,
    device: Option<&str>,
) -> Result<Session, AuthError> {
    // A name that cannot exist is still checked against a hash, so timing does not tell it apart.
    let user = match Username::parse(&req.username) {
        Ok(name) => users::by_username(conn, name.as_str()).await?,
        Err(_) => None,
    };
    let ok = hasher.verify(req.password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    match user {
        Some(user) if ok => sessions::start(conn, keys, realtime, &user, device).await,
        _ => Err(AuthError::InvalidCredentials),
    }
}

/// Change the caller's password, proven by the current one. Every other session of the user ends (whoever
/// else knew the old password is logged out); the caller's goes on.
pub async fn change_password(
    conn: &mut DbConn,
    hasher: &Hasher,
    realtime: &Realtime,
    caller: &AuthUser,
    req: ChangePasswordRequest,
) -> Result<(), AuthError> {
    let new = Password::parse(&req.new_password).map_err(|e| ValidationError::new("new_password", e.message))?;
    let user = users::by_id(conn, caller.user_id)
        .await?
        .ok_or_else(|| AuthError::Internal("a live session's account is missing".into()))?;
    if !hasher.verify(req.current_password, Some(user.password_hash)).await? {
        return Err(AuthError::WrongPassword);
    }
    let password_hash = hasher.hash(new.expose().to_owned()).await?;
    let ended = users::change_password(conn, user.id, &password_hash, caller.session_id, db::now()).await?;
    realtime.sessions_revoked(user.id, &ended);
    Ok(())
}
