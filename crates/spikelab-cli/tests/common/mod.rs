//! What the integration tests share: running the binary and reading what it prints.
#![allow(dead_code)] // each test crate uses its own share of these

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn spikelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spikelab")).args(args).env_remove("SPIKELAB_DATA").output().unwrap()
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikelab-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("run.toml");
    std::fs::write(&path, text).unwrap();
    path
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The JSON object that a `--json` command prints as its last stdout line.
pub fn last_json(o: &Output) -> serde_json::Value {
    let stdout = String::from_utf8(o.stdout.clone()).unwrap();
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

pub fn fails_with(args: &[&str], expected: &[&str]) {
    let o = spikelab(args);
    assert_eq!(o.status.code(), Some(1), "{args:?} should fail");
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    for e in expected {
        assert!(err.contains(e), "{args:?}: expected {e:?} in {err}");
    }
}

/// Runs a `--json` command that must succeed and returns the JSON object it prints last.
pub fn run_json(args: &[&str]) -> serde_json::Value {
    let o = spikelab(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    last_json(&o)
}
