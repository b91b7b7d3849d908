//! `perf script` text, folded by inferno's perf collapser, then read as collapsed stacks.
//! inferno's root frame `comm-PID/TID` becomes Ember's process and thread frames; frames from
//! CPython's perf trampoline (`python -X perf`), `py::func:file`, become Python frames.

use super::collapsed;
use crate::profile::model::Profile;
use anyhow::Context;
use inferno::collapse::perf::{Folder, Options};
use inferno::collapse::Collapse;

fn folder() -> Folder {
    let mut opt = Options::default();
    opt.include_tid = true;
    opt.nthreads = 1;
    Folder::from(opt)
}

/// True when inferno's perf collapser recognises the text (an event line then stack lines).
pub fn sniff(text: &str) -> bool {
    folder().is_applicable(text) == Some(true)
}

pub fn read(bytes: &[u8]) -> anyhow::Result<Profile> {
    let mut folded = Vec::new();
    folder().collapse(bytes, &mut folded).context("inferno could not fold this perf script output")?;
    let folded = String::from_utf8_lossy(&folded);
    let mut text = String::with_capacity(folded.len() + folded.len() / 8);
    for line in folded.lines() {
        let (root, rest) = line.split_once(';').unwrap_or((line, ""));
        match split_root(root) {
            Some((comm, pid, tid)) => {
                text.push_str(&format!("process {pid} ({comm});thread ({tid})"));
                if !rest.is_empty() {
                    text.push(';');
                    text.push_str(rest);
                }
            }
            None => text.push_str(line),
        }
        text.push('\n');
    }
    if text.trim().is_empty() {
        anyhow::bail!("the perf script output holds no samples with call stacks (record with `perf record -g`)");
    }
    let mut p = collapsed::read(text.as_bytes(), "perf")?;
    // A stack that is only the process/thread root frame has no frames: collapsed::read skips it.
    p.meta.source = "perf".into();
    Ok(p)
}

/// `comm-PID/TID` (inferno's root frame with include_tid) → (comm, pid, tid).
fn split_root(root: &str) -> Option<(&str, u32, u32)> {
    let (comm, ids) = root.rsplit_once('-')?;
    let (pid, tid) = ids.split_once('/')?;
    let tid: u32 = tid.parse().ok()?;
    let pid: u32 = pid.parse().unwrap_or(tid);
    Some((comm, pid, tid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_inferno_root_frames() {
        assert_eq!(split_root("python3-100/101"), Some(("python3", 100, 101)));
        assert_eq!(split_root("my-prog-7/7"), Some(("my-prog", 7, 7)));
        assert_eq!(split_root("python3-?/12"), Some(("python3", 12, 12)));
        assert_eq!(split_root("python3"), None);
    }
}
