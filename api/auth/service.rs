//! Account rules as plain functions over a connection: register, log in, refresh, log out.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{AuthError, AuthKeys, password};
use crate::db::models::{NewRefreshToken, NewUser, UserRow};
use crate::db::{self, DbConn, tokens, users};
use crate::domain::{DisplayName, Password, Username};
use crate::protocol::{LoginRequest, RegisterRequest, Session, User};

pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS RNG failing leaves nothing safe to do: tokens must never be predictable.
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(buf)
}

fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn public_user(row: &UserRow) -> User {
    User { id: row.id, username: row.username.clone(), display_name: row.display_name.clone(), online: None }
}

pub async fn register(conn: &mut DbConn, keys: &AuthKeys, req: RegisterRequest) -> Result<Session, AuthError> {
    let username = Username::parse(&req.username)?;
    let password = Password::parse(&req.password)?;
    let display_name = match req.display_name.as_deref() {
        Some(raw) => DisplayName::parse(raw)?,
        None => DisplayName::parse(username.as_str())?,
    };
    if users::by_username(conn, username.as_str()).await?.is_some() {
        return Err(AuthError::UsernameTaken);
    }
    let password_hash = password::hash_blocking(password.expose().to_owned()).await?;
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
    new_session(conn, keys, &user, None).await
}

pub async fn login(conn: &mut DbConn, keys: &AuthKeys, req: LoginRequest) -> Result<Session, AuthError> {
    // A name that cannot exist is still checked against a hash, so timing does not tell it apart.
    let user = match Username::parse(&req.username) {
        Ok(name) => users::by_username(conn, name.as_str()).await?,
        Err(_) => None,
    };
    let ok = password::verify_blocking(req.password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    match user {
        Some(user) if ok => new_session(conn, keys, &user, None).await,
        _ => Err(AuthError::InvalidCredentials),
    }
}

/// Spend a refresh token for a new session. A token presented twice revokes its whole family: whoever holds
/// the copy (the thief or the owner) has to log in again.
pub async fn refresh(conn: &mut DbConn, keys: &AuthKeys, refresh_token: &str) -> Result<Session, AuthError> {
    let now = db::now();
    let stored =
        tokens::by_hash(conn, &hash_refresh_token(refresh_token)).await?.ok_or(AuthError::InvalidRefreshToken)?;
    if stored.used_at.is_some() {
        tokens::revoke_family(conn, &stored.family_id, now).await?;
        tracing::warn!(user_id = stored.user_id, "refresh token reused; family revoked");
        return Err(AuthError::RefreshTokenReused);
    }
    if stored.revoked_at.is_some() || stored.expires_at <= now {
        return Err(AuthError::InvalidRefreshToken);
    }
    if !tokens::spend(conn, stored.id, now).await? {
        // Spent concurrently by someone else: same as reuse.
        tokens::revoke_family(conn, &stored.family_id, now).await?;
        return Err(AuthError::RefreshTokenReused);
    }
    let user = users::by_id(conn, stored.user_id).await?.ok_or(AuthError::InvalidRefreshToken)?;
    new_session(conn, keys, &user, Some(&stored.family_id)).await
}

/// Revoke the family of `refresh_token` when it belongs to `user_id`; unknown tokens are ignored (logout is
/// idempotent and must not reveal whose a token is).
pub async fn logout(conn: &mut DbConn, user_id: i64, refresh_token: &str) -> Result<(), AuthError> {
    if let Some(stored) = tokens::by_hash(conn, &hash_refresh_token(refresh_token)).await? {
        if stored.user_id == user_id {
            tokens::revoke_family(conn, &stored.family_id, db::now()).await?;
        }
    }
    Ok(())
}

async fn new_session(
    conn: &mut DbConn,
    keys: &AuthKeys,
    user: &UserRow,
    family: Option<&str>,
) -> Result<Session, AuthError> {
    let access_token = keys.issue(user.id).map_err(|e| AuthError::Internal(format!("cannot sign token: {e}")))?;
    let refresh_token = random_token(32);
    let family_id = family.map(str::to_owned).unwrap_or_else(|| random_token(12));
    let now = db::now();
    let ttl = chrono::Duration::from_std(keys.refresh_ttl()).unwrap_or(chrono::Duration::days(30));
    tokens::insert(
        conn,
        &NewRefreshToken {
            user_id: user.id,
            token_hash: &hash_refresh_token(&refresh_token),
            family_id: &family_id,
            expires_at: now + ttl,
            created_at: now,
        },
    )
    .await?;
    Ok(Session { user: public_user(user), access_token, refresh_token, expires_in: keys.access_ttl().as_secs() as i64 })
}
