//! The workspace side: where profiles are (`<root>/.ember/`), loading them, noticing new ones,
//! and telling whether a source file changed since its profile was recorded.

use super::document::Document;
use crate::profile::query::{FileStats, Index, View};
use crate::profile::Profile;
use lsp_types::{InitializeParams, Url};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The workspace root: the first workspace folder, else `rootUri`, else `rootPath`.
pub fn root(params: &InitializeParams) -> Option<PathBuf> {
    #[allow(deprecated)]
    let uris = params
        .workspace_folders
        .iter()
        .flatten()
        .map(|f| f.uri.clone())
        .chain(params.root_uri.clone());
    for uri in uris {
        if let Ok(p) = uri.to_file_path() {
            return Some(p);
        }
    }
    #[allow(deprecated)]
    params.root_path.as_ref().map(PathBuf::from)
}

pub fn ember_dir(root: &Path) -> PathBuf {
    root.join(".ember")
}

/// The profile `<dir>/latest` names (or the newest one in `dir`), if there is one.
pub fn latest(dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    crate::profile::store::latest_in_dir(dir)
}

/// Reads a profile file.
pub fn load_profile(path: &Path) -> anyhow::Result<Profile> {
    crate::profile::file::load(path)
}

/// A loaded profile with its indexes, ready to install.
pub struct Loaded {
    pub path: PathBuf,
    /// Modification time of the profile file when read, to notice a rewrite.
    pub file_mtime: Option<SystemTime>,
    pub profile: Profile,
    pub index: Index,
    pub view: View,
}

/// Loads a profile file and precomputes what the editor views ask for.
pub fn load(path: &Path) -> anyhow::Result<Loaded> {
    let file_mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let profile = load_profile(path)?;
    Ok(prepare(path.to_path_buf(), file_mtime, profile))
}

pub fn prepare(path: PathBuf, file_mtime: Option<SystemTime>, profile: Profile) -> Loaded {
    let index = Index::build(&profile);
    let view = index.view(&profile, None);
    Loaded { path, file_mtime, profile, index, view }
}

pub fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Whether `source` changed on disk after the profile started recording. Unknown (None) when
/// the profile does not say when it was recorded or the file cannot be read.
pub fn changed_since(profile: &Profile, source: &Path) -> Option<bool> {
    if profile.meta.start_unix_ms == 0 {
        return None;
    }
    // A second of slack: a file saved just before the run is not a change (clocks and
    // filesystem timestamps are coarse).
    let started = UNIX_EPOCH + Duration::from_millis(profile.meta.start_unix_ms) + Duration::from_secs(1);
    Some(mtime(source)? > started)
}

/// A sampled line that cannot have run as the document stands (blank, a comment, or past the
/// end): the file is not the one that was recorded. Works without timestamps (converted
/// profiles, other machines).
pub fn misplaced_line(stats: &FileStats, doc: &Document) -> Option<u32> {
    stats.lines.iter().map(|l| l.line).find(|&line| {
        // Profiles count from 1; the document from 0, and unedited lines map 1:1 at open.
        match doc.current_line(line).and_then(|cur| doc.line_text(cur)) {
            None => line > doc.line_count(),
            Some(text) => {
                let t = text.trim_start();
                t.is_empty() || t.starts_with('#')
            }
        }
    })
}

pub fn uri_path(uri: &Url) -> Option<PathBuf> {
    (uri.scheme() == "file").then(|| uri.to_file_path().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_blank_comment_or_missing_lines_are_misplaced() {
        let stats = |lines: &[u32]| FileStats {
            path: "/a.py".into(),
            lines: lines.iter().map(|&line| crate::profile::query::LineStat { line, total: 1, self_: 1 }).collect(),
            functions: vec![],
        };
        let doc = Document::new("def f():\n    x = 1\n\n    # note\n    return x\n");
        assert_eq!(misplaced_line(&stats(&[1, 2, 5]), &doc), None);
        assert_eq!(misplaced_line(&stats(&[2, 3]), &doc), Some(3));
        assert_eq!(misplaced_line(&stats(&[4]), &doc), Some(4));
        assert_eq!(misplaced_line(&stats(&[2, 40]), &doc), Some(40));
    }

    #[test]
    fn a_file_written_after_the_recording_started_has_changed() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.py");
        std::fs::write(&src, "x = 1\n").unwrap();
        let mut p = Profile::default();
        assert_eq!(changed_since(&p, &src), None);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        p.meta.start_unix_ms = now + 60_000;
        assert_eq!(changed_since(&p, &src), Some(false));
        p.meta.start_unix_ms = now - 60_000;
        assert_eq!(changed_since(&p, &src), Some(true));
        assert_eq!(changed_since(&p, &dir.path().join("gone.py")), None);
    }
}
