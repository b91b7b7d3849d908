//! A folder of recorded profiles (usually `<project>/.ember/`): each recording is saved as
//! `<UTC timestamp>-<stem>.ember`, and the small text file `latest` names the newest one, so the
//! LSP server can watch a single path. The folder ignores itself in git (`.gitignore` with `*`).

use super::file;
use super::journal::{self, Journal, Recovered};
use super::model::Profile;
use anyhow::{bail, Context};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Name of the pointer file inside the folder.
pub const LATEST: &str = "latest";

/// Saves `p` as `<dir>/<UTC timestamp>-<stem>.ember`, then points `<dir>/latest` at it.
/// Creates the folder and its `.gitignore` when missing. Returns the profile's path.
pub fn save_in_dir(dir: &Path, stem: &str, p: &Profile) -> anyhow::Result<PathBuf> {
    prepare(dir)?;
    let base = format!("{}-{}", utc_stamp(SystemTime::now()), sanitize(stem));
    // Two recordings in the same second (even from two processes) get distinct names rather
    // than overwriting: the rename refuses to replace an existing file.
    for n in 1..1000 {
        let name = if n == 1 { format!("{base}.{}", file::EXTENSION) } else { format!("{base}-{n}.{}", file::EXTENSION) };
        let path = dir.join(&name);
        if path.exists() {
            continue;
        }
        if file::save_new(&path, p)? {
            write_latest(dir, &name)?;
            return Ok(path);
        }
    }
    bail!("cannot find a free file name for {base}.{} in {}", file::EXTENSION, dir.display())
}

/// Creates the folder and its `.gitignore` when missing.
fn prepare(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the profile folder {}", dir.display()))?;
    let gitignore = dir.join(".gitignore");
    if !gitignore.exists() {
        std::fs::write(&gitignore, "*\n").with_context(|| format!("cannot write {}", gitignore.display()))?;
    }
    Ok(())
}

/// The journal of a recording that will be saved in `dir` (journal.rs): named as the profile
/// would be if it were saved now.
pub fn start_journal(dir: &Path, stem: &str) -> anyhow::Result<Journal> {
    prepare(dir)?;
    let name = format!("{}-{}.{}", utc_stamp(SystemTime::now()), sanitize(stem), file::EXTENSION);
    Journal::create(&dir.join(name)).with_context(|| format!("cannot start a journal in {}", dir.display()))
}

/// Saves the recordings that killed Embers left as journals in `dir` as profiles there, and
/// points `latest` at the one that ended last when it ended after the profile `latest` names
/// was saved.
pub fn recover(dir: &Path) -> Vec<Result<Recovered, String>> {
    let found = journal::recover(dir, &[]);
    let newest = found
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter_map(|r| Some((r.end_unix_ms, r.saved.as_ref()?.file_name()?.to_str()?.to_string())))
        .max();
    if let Some((ended, name)) = newest {
        let saved_ms = |p: PathBuf| {
            let t = std::fs::metadata(p).ok()?.modified().ok()?;
            Some(t.duration_since(UNIX_EPOCH).ok()?.as_millis() as u64)
        };
        let current = latest_in_dir(dir).ok().flatten().and_then(saved_ms);
        if current.is_none_or(|c| ended > c) {
            let _ = write_latest(dir, &name);
        }
    }
    found
}

/// The newest profile in `dir`: the one `latest` names, or else the most recently written
/// `*.ember`.
/// None when the folder does not exist or holds no profile.
pub fn latest_in_dir(dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let pointer = dir.join(LATEST);
    match std::fs::read_to_string(&pointer) {
        Ok(text) => {
            let name = text.trim();
            if name.is_empty() || name.contains('/') || name.contains('\\') || name == ".." || name == "." {
                bail!(
                    "{} should hold the file name of a profile in that folder, but holds {name:?}; delete it and record again",
                    pointer.display()
                );
            }
            let path = dir.join(name);
            if path.is_file() {
                return Ok(Some(path));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", pointer.display())),
    }
    newest_written(dir)
}

/// The most recently written `*.ember` in `dir` (by modification time; by name between equals).
fn newest_written(dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    let mut best: Option<(SystemTime, String)> = None;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(&format!(".{}", file::EXTENSION)) || name.starts_with('.') {
            continue;
        }
        let Ok(meta) = std::fs::metadata(entry.path()) else { continue };
        let key = (meta.modified().unwrap_or(UNIX_EPOCH), name);
        if meta.is_file() && best.as_ref().is_none_or(|b| key > *b) {
            best = Some(key);
        }
    }
    Ok(best.map(|(_, b)| dir.join(b)))
}

/// A profile written somewhere else than through `save_in_dir` (`ember record -o
/// .ember/after-fix.ember`, `ember convert`): when its folder is a profile folder (named
/// `.ember`, or with a `latest` pointer), `latest` is moved to it, so the editors showing
/// that folder's newest profile show this one. Best effort: the profile is saved either way.
pub fn note_written(path: &Path) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return };
    let dir = file::folder(path);
    if dir.join(LATEST).is_file() || dir.file_name().is_some_and(|n| n == ".ember") {
        let _ = write_latest(dir, name);
    }
}

fn write_latest(dir: &Path, name: &str) -> anyhow::Result<()> {
    let fail = || format!("cannot update {}", dir.join(LATEST).display());
    let mut tmp = tempfile::Builder::new().prefix(".latest-").tempfile_in(dir).with_context(fail)?;
    writeln!(tmp, "{name}").with_context(fail)?;
    tmp.as_file().sync_all().with_context(fail)?;
    tmp.persist(dir.join(LATEST)).map_err(|e| e.error).with_context(fail)?;
    file::sync_dir(dir);
    Ok(())
}

/// Keeps file names portable: letters, digits, `.`, `_`, `-`; anything else becomes `_`.
pub fn sanitize(stem: &str) -> String {
    let s: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' { c } else { '_' })
        .take(80)
        .collect();
    let s = s.trim_matches('.').to_string();
    if s.is_empty() { "profile".into() } else { s }
}

/// `20261121T120741Z`: sorts by time, no characters that any filesystem refuses.
pub fn utc_stamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Gregorian date from days since 1970-01-01 (Howard Hinnant's civil-from-days algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stamps_are_utc_calendar_dates() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        // 2000-02-29 23:59:59 UTC (a leap day) = 951868799.
        assert_eq!(utc_stamp(UNIX_EPOCH + Duration::from_secs(951_868_799)), "20000229T235959Z");
        // 2026-11-21 12:07:41 UTC = 1795262861.
        assert_eq!(utc_stamp(UNIX_EPOCH + Duration::from_secs(1_795_262_861)), "20261121T120741Z");
    }

    #[test]
    fn stems_are_sanitized() {
        assert_eq!(sanitize("my script.py"), "my_script.py");
        assert_eq!(sanitize("../../etc"), "_.._etc");
        assert_eq!(sanitize(""), "profile");
    }

    #[test]
    fn saves_points_latest_and_ignores_itself() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(".ember");
        assert_eq!(latest_in_dir(&dir).unwrap(), None);
        let mut p = Profile::default();
        let f = p.intern_function("a.py", "main", 1);
        let fr = p.intern_frame(f, 3);
        let st = p.intern_stack_path(&[fr]).unwrap();
        let t = p.thread(1, 1, Some("MainThread"));
        p.push_sample(5, t, st, 0);
        let first = save_in_dir(&dir, "a.py", &p).unwrap();
        assert!(first.file_name().unwrap().to_str().unwrap().ends_with("-a.py.ember"));
        assert_eq!(std::fs::read_to_string(dir.join(".gitignore")).unwrap(), "*\n");
        assert_eq!(latest_in_dir(&dir).unwrap(), Some(first.clone()));
        let second = save_in_dir(&dir, "a.py", &p).unwrap();
        assert_ne!(first, second, "a second save in the same second must not overwrite the first");
        assert!(first.exists());
        assert_eq!(latest_in_dir(&dir).unwrap(), Some(second.clone()));
        let name = second.file_name().unwrap().to_str().unwrap();
        assert_eq!(std::fs::read_to_string(dir.join(LATEST)).unwrap().trim(), name);
        assert_eq!(file::load(&second).unwrap().samples, p.samples);
        // No temp files left behind.
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp") || n.starts_with(".latest-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn latest_falls_back_to_newest_file_and_rejects_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join("20260101T000000Z-b.ember"), b"x").unwrap();
        std::fs::write(dir.join("after-fix.ember"), b"x").unwrap();
        std::fs::write(dir.join("20250101T000000Z-a.ember"), b"x").unwrap();
        let age = |name: &str, secs: u64| {
            let f = std::fs::File::options().write(true).open(dir.join(name)).unwrap();
            f.set_modified(SystemTime::now() - std::time::Duration::from_secs(secs)).unwrap();
        };
        age("20260101T000000Z-b.ember", 20);
        age("after-fix.ember", 30);
        age("20250101T000000Z-a.ember", 40);
        // The most recently written, whatever its name.
        assert_eq!(latest_in_dir(dir).unwrap(), Some(dir.join("20260101T000000Z-b.ember")));
        age("after-fix.ember", 10);
        assert_eq!(latest_in_dir(dir).unwrap(), Some(dir.join("after-fix.ember")));
        age("after-fix.ember", 30);
        std::fs::write(dir.join(LATEST), "gone.ember\n").unwrap();
        assert_eq!(latest_in_dir(dir).unwrap(), Some(dir.join("20260101T000000Z-b.ember")));
        std::fs::write(dir.join(LATEST), "../../etc/passwd\n").unwrap();
        let err = latest_in_dir(dir).unwrap_err().to_string();
        assert!(err.contains("should hold the file name"), "{err}");
    }

    #[test]
    fn a_profile_written_into_a_profile_folder_becomes_latest() {
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join(".ember");
        std::fs::create_dir(&store).unwrap();
        note_written(&store.join("after-fix.ember"));
        assert_eq!(std::fs::read_to_string(store.join(LATEST)).unwrap().trim(), "after-fix.ember");
        // Elsewhere, nothing is created.
        note_written(&tmp.path().join("p.ember"));
        assert!(!tmp.path().join(LATEST).exists());
    }
}
