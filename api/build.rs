// The PostgreSQL + Redis variants of the integration tests run when TEST_DATABASE_URL is set at build time;
// without it they are compiled as ignored, so a run without those services says so in the runner's own counts
// instead of passing them silently.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(chat_pg_tests)");
    println!("cargo::rustc-check-cfg=cfg(chat_s3_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rerun-if-env-changed=TEST_STORAGE_URL");
    println!("cargo::rerun-if-changed=api/build.rs");
    // Migrations are embedded at compile time: a new one must rebuild the crate.
    println!("cargo::rerun-if-changed=migrations");
    if std::env::var_os("TEST_DATABASE_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=chat_pg_tests");
    }
    // Likewise the attachments-on-S3 test, with an S3-compatible bucket (CI starts moto's server for it).
    if std::env::var_os("TEST_STORAGE_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=chat_s3_tests");
    }
}
