//! Shared helpers: the interpreters on this machine and the repository's workloads.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn workload(name: &str) -> PathBuf {
    repo().join("tests/workloads").join(name)
}

/// (label, interpreter path) for every supported CPython found here (scripts/pythons.sh).
/// Set EMBER_REQUIRE_ALL_PYTHONS=1 (CI does) to fail when one of 3.8–3.15 is missing.
pub fn pythons() -> Vec<(String, PathBuf)> {
    let out = Command::new("bash").arg(repo().join("scripts/pythons.sh")).output().expect("run scripts/pythons.sh");
    let list: Vec<(String, PathBuf)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), PathBuf::from(b))))
        .collect();
    if std::env::var_os("EMBER_REQUIRE_ALL_PYTHONS").is_some() {
        for m in ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "3.11-debian"] {
            assert!(list.iter().any(|(l, _)| l == m), "CPython {m} is not installed (scripts/setup.sh provisions it)");
        }
    }
    assert!(!list.is_empty(), "no supported CPython found");
    list
}

pub fn python(label: &str) -> Option<PathBuf> {
    pythons().into_iter().find(|(l, _)| l == label).map(|(_, p)| p)
}

/// Starts a workload and waits for it to print "ready".
pub fn start_ready(py: &PathBuf, args: &[&str]) -> Child {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(py).args(args).stdout(Stdio::piped()).spawn().expect("spawn python");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "workload did not start");
    child
}

pub struct Kill(pub Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
