//! The demo configuration copied to disk for a test to break, and the real chsim binary run on it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A copy of the demo configuration (config/ and keys/ side by side) in a temp dir; returns the
/// dir (deleted when dropped) and the path of its config/.
pub fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["config", "keys"] {
        std::fs::create_dir(tmp.path().join(dir)).unwrap();
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), tmp.path().join(dir).join(entry.file_name())).unwrap();
        }
    }
    let config = tmp.path().join("config");
    (tmp, config)
}

/// Replaces the first `from` in `dir/file` by `to`; `from` must be there.
pub fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Runs the chsim binary with `args`, listening on a free loopback port and with the extra
/// environment `env`; returns exit code and stdout+stderr.
pub fn run_chsim(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chsim"))
        .args(args)
        .env("CHSIM_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}
