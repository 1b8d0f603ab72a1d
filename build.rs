// The shipped content is compiled into the binary (src/content); rebuild when any of it changes.
fn main() {
    println!("cargo:rerun-if-changed=content");
    // So are the migrations (`sqlx::migrate!`): a new one must rebuild, not wait for a Rust change.
    println!("cargo:rerun-if-changed=migrations");
}
