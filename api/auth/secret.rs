//! The access tokens' signing key: JWT_SECRET when set, else one generated once and kept (0600) in the data
//! directory.

use std::path::Path;

/// A key that cannot be used; the message says why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SecretError(String);

/// JWT_SECRET when set; else a key generated once and kept in the data directory, so tokens survive restarts.
pub fn resolve(settings: &crate::config::Settings) -> Result<Vec<u8>, SecretError> {
    if let Some(secret) = &settings.jwt_secret {
        if secret.len() < 32 {
            return Err(SecretError("JWT_SECRET must be at least 32 bytes long".into()));
        }
        return Ok(secret.as_bytes().to_vec());
    }
    load_or_create_secret(&settings.data_dir.join("jwt_secret"))
}

fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, SecretError> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            // A key readable by others (from an older version, or a careless copy) is made private.
            crate::private_files::tighten(path)
                .map_err(|e| SecretError(format!("cannot make {} private: {e}", path.display())))?;
            return Ok(existing.as_bytes().to_vec());
        }
    }
    let secret = crate::auth::service::random_token(48);
    let fail = |e: std::io::Error| SecretError(format!("cannot keep the JWT key at {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_files::create_dir(dir).map_err(fail)?;
    }
    write_private(path, &secret).map_err(fail)?;
    tracing::warn!(
        path = %path.display(),
        "JWT_SECRET is unset: generated a signing key and saved it there (instances sharing a database must share JWT_SECRET)"
    );
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
