//! `--log FILE`: every message in and out, and every error, one line each with a timestamp.
//! Stdout carries nothing but protocol, so this is where to look when a client misbehaves.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Default)]
pub struct Log {
    file: Option<Arc<Mutex<std::fs::File>>>,
}

impl Log {
    pub fn none() -> Log {
        Log { file: None }
    }

    pub fn to_file(path: &Path) -> std::io::Result<Log> {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Log { file: Some(Arc::new(Mutex::new(f))) })
    }

    pub fn line(&self, what: &str, text: &str) {
        let Some(f) = &self.file else { return };
        let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(f, "{}.{:03} {what} {text}", t.as_secs(), t.subsec_millis());
        let _ = f.flush();
    }

    pub fn error(&self, text: &str) {
        self.line("ERROR", text);
    }
}
