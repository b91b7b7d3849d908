//! Saving the session's profile in its output folder.

use crate::profile::Profile;
use std::path::{Path, PathBuf};

/// Saves `profile` atomically as `<dir>/<stem>.*`, with the folder's `latest` pointer and
/// `.gitignore`; returns the file's path.
pub fn save(_dir: &Path, _stem: &str, _profile: &Profile) -> anyhow::Result<PathBuf> {
    anyhow::bail!("saving profiles is not built yet (profile::store lands with the profile branch)")
}
