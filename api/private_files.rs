//! Files only this server's user may read: the data directory, the SQLite database (and its -wal/-shm, which
//! SQLite creates with the database file's mode), the generated JWT key.

use std::io;
use std::path::Path;

/// Create `dir` and any missing parents as 0700. Directories that exist are left as they are (one may be a
/// shared parent such as /var/lib).
pub fn create_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Make sure `file` exists with mode 0600: created so when missing, tightened when it exists with more.
pub fn ensure_file(file: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(file) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => tighten(file),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        std::fs::OpenOptions::new().write(true).create(true).open(file).map(|_| ())
    }
}

/// Take group and other permissions off an existing file (absent: nothing to do).
pub fn tighten(file: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(file) {
            Ok(meta) => meta.permissions().mode(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if mode & 0o077 != 0 {
            tracing::warn!(path = %file.display(), mode = format!("{:o}", mode & 0o777), "tightening to 0600");
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}
