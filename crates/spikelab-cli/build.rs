//! Records the compiler's version for the run reports' host record (src/host.rs): two machines
//! that print different figures for one config may differ in nothing but their toolchain.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SPIKELAB_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-changed=build.rs");
}
