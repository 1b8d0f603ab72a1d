// The shipped content is compiled into the binary (src/content); rebuild when any of it changes.
fn main() {
    println!("cargo:rerun-if-changed=content");
}
