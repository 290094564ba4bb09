//! Build script: rebuilds the examples when a migration they embed is
//! added (see `schemactl::build`).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
