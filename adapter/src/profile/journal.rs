//! The journal of a recording in progress, so that a recording outlives Ember itself being
//! killed (SIGKILL, the out-of-memory killer, an editor that kills its debug adapter): about
//! once a second the recorder appends what is new since the last append (strings, functions,
//! frames, stack nodes and samples; threads, processes and meta whole, as they change in place)
//! as one gzip member holding one JSON line. At most the last second is lost. `zcat` shows it.
//!
//! The finished recording is saved as a profile (file.rs) and its journal deleted. A journal
//! left behind is turned into a profile the next time Ember records into its folder
//! ([`recover`]); any reader of profiles also opens one directly (`ember serve x.ember.partial`).
//!
//! A writer holds an exclusive `flock` on its journal while it lives; the kernel drops it when
//! the process dies, however it dies. That tells a journal left behind from a recording still
//! going on in another Ember.
//!
//! Appends are not fsynced: they guard against the process dying, and a slow disk must not stall
//! the recorder (the sampler drops what the recorder cannot take). The final profile is fsynced.

use super::file::{self, folder, Col, Frames, FramesIn, Functions, FunctionsIn, Stacks, StacksIn};
use super::model::*;
use flate2::bufread::GzDecoder;
use flate2::write::GzEncoder;
use nix::fcntl::{Flock, FlockArg};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// A journal's name is the name its recording would be saved as, plus this.
pub const SUFFIX: &str = ".partial";
const FORMAT: &str = "ember-journal";
const VERSION: u32 = 1;

/// The first member of a journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    /// File name (in the journal's folder) the recording was to be saved as.
    output: String,
}

/// Table lengths at the last append: the next one writes what lies past them.
#[derive(Debug, Default, Clone, Copy)]
struct Marks {
    strings: usize,
    functions: usize,
    frames: usize,
    stacks: usize,
    samples: usize,
    /// Time of the last sample appended (the next append's times are deltas from it).
    last_time: u64,
}

pub struct Journal {
    path: PathBuf,
    file: Flock<File>,
    marks: Marks,
}

impl Journal {
    /// Starts the journal of a recording to be saved as `output`: `<output>.partial` beside it
    /// (`<output>-2.partial`… when taken). The folder must exist.
    pub fn create(output: &Path) -> io::Result<Journal> {
        let dir = folder(output);
        let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "profile".into());
        // Locked and given its header under a temporary name, so that no other Ember ever sees
        // it unlocked or empty and takes it for one left behind.
        let tmp = tempfile::Builder::new().prefix(".ember-journal-").suffix(".tmp").tempfile_in(dir)?;
        let lock = tmp.as_file().try_clone()?;
        let mut file = Flock::lock(lock, FlockArg::LockExclusiveNonblock).map_err(|(_, e)| io::Error::from(e))?;
        let header = Header { format: FORMAT.into(), version: VERSION, output: name.clone() };
        write_member(&mut file, &header)?;
        let mut tmp = Some(tmp);
        for n in 1..1000 {
            let path = dir.join(if n == 1 { format!("{name}{SUFFIX}") } else { format!("{name}-{n}{SUFFIX}") });
            match tmp.take().expect("kept on AlreadyExists").persist_noclobber(&path) {
                Ok(_) => {
                    file::sync_dir(dir);
                    return Ok(Journal { path, file, marks: Marks::default() });
                }
                Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => tmp = Some(e.file),
                Err(e) => return Err(e.error),
            }
        }
        Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("no free journal name for {name} in {}", dir.display())))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends what `p` holds beyond the last append. Writes nothing when no table grew, unless
    /// `always` (the last append, which also carries exit codes and final counts).
    pub fn append(&mut self, p: &Profile, always: bool) -> io::Result<()> {
        let m = self.marks;
        let grew = p.strings.len() > m.strings || p.stacks.len() > m.stacks || p.samples.len() > m.samples;
        if !grew && !always {
            return Ok(());
        }
        write_member(&mut self.file, &Chunk { p, m })?;
        self.marks = Marks {
            strings: p.strings.len(),
            functions: p.functions.len(),
            frames: p.frames.len(),
            stacks: p.stacks.len(),
            samples: p.samples.len(),
            last_time: p.samples.time_ns.last().copied().unwrap_or(m.last_time),
        };
        Ok(())
    }

    /// The recording is saved elsewhere: the journal goes (still locked while it does).
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for Journal {
    /// A journal that never got a sample (a recording that failed to start) keeps nothing
    /// worth recovering; one that did stays, for the next recording in its folder to save.
    fn drop(&mut self) {
        if self.marks.samples == 0 {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// One gzip member holding one line of JSON, written with one `write_all`.
fn write_member<T: Serialize>(f: &mut File, value: &T) -> io::Result<()> {
    let gz = GzEncoder::new(Vec::with_capacity(1 << 12), flate2::Compression::fast());
    // serde_json writes number by number: buffer before the compressor.
    let mut json = io::BufWriter::with_capacity(1 << 16, gz);
    serde_json::to_writer(&mut json, value)?;
    json.write_all(b"\n")?;
    let gz = json.into_inner().map_err(|e| e.into_error())?;
    f.write_all(&gz.finish()?)
}

/// What is new since `m`, as the JSON line of one append.
struct Chunk<'a> {
    p: &'a Profile,
    m: Marks,
}

impl Serialize for Chunk<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (p, m) = (self.p, self.m);
        let mut out = s.serialize_map(Some(8))?;
        out.serialize_entry("meta", &p.meta)?;
        out.serialize_entry("threads", &p.threads)?;
        out.serialize_entry("processes", &p.processes)?;
        out.serialize_entry("strings", &p.strings[m.strings..])?;
        out.serialize_entry("functions", &Functions(&p.functions[m.functions..]))?;
        out.serialize_entry("frames", &Frames(&p.frames[m.frames..]))?;
        // As in the file, with indices counted from the first stack of the recording.
        out.serialize_entry("stacks", &Stacks(&p.stacks[m.stacks..], m.stacks))?;
        let smp = &p.samples;
        let t = &smp.time_ns[m.samples..];
        out.serialize_entry(
            "samples",
            &SamplesChunk {
                time_delta_ns: Col(t, |i, &x| x as i64 - if i == 0 { m.last_time } else { t[i - 1] } as i64),
                thread: &smp.thread[m.samples..],
                stack: &smp.stack[m.samples..],
                flags: &smp.flags[m.samples..],
            },
        )?;
        out.end()
    }
}

#[derive(Serialize)]
#[serde(bound(serialize = ""))]
struct SamplesChunk<'a, F: Fn(usize, &u64) -> i64> {
    time_delta_ns: Col<'a, u64, F>,
    thread: &'a [ThreadIdx],
    stack: &'a [StackId],
    flags: &'a [u8],
}

#[derive(Deserialize)]
struct ChunkIn {
    meta: Meta,
    threads: Vec<Thread>,
    processes: Vec<Process>,
    strings: Vec<String>,
    functions: FunctionsIn,
    frames: FramesIn,
    stacks: StacksIn,
    samples: SamplesIn,
}

#[derive(Deserialize)]
struct SamplesIn {
    time_delta_ns: Vec<i64>,
    thread: Vec<ThreadIdx>,
    stack: Vec<StackId>,
    flags: Vec<u8>,
}

/// A journal read back.
pub struct Contents {
    pub profile: Profile,
    /// The name the recording was to be saved as.
    pub output: String,
    /// The last append was cut short (the writer died while writing it) and is left out.
    pub torn_tail: bool,
}

/// True when `bytes` (the start of a file) are a journal's.
pub fn sniff(bytes: &[u8]) -> bool {
    let mut head = Vec::new();
    let _ = flate2::read::GzDecoder::new(bytes).take(256).read_to_end(&mut head);
    // The header is the first line; any JSON spacing or key order.
    let line: Vec<u8> = head.iter().take_while(|&&b| b != b'\n').copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let needle = format!("\"format\":\"{FORMAT}\"");
    line.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Reads a journal. Every append before a torn one is kept.
pub fn read_from<R: BufRead>(mut r: R) -> Result<Contents, String> {
    let header: Header = match next_member(&mut r) {
        Ok(Some(line)) => serde_json::from_slice(&line).map_err(|e| format!("not an Ember journal ({e})"))?,
        Ok(None) => return Err("the journal is empty".into()),
        Err(e) => return Err(format!("not an Ember journal ({e})")),
    };
    if header.format != FORMAT {
        return Err(format!("not an Ember journal (its \"format\" is {:?})", header.format));
    }
    if header.version != VERSION {
        return Err(format!("journal version {} is not the one this ember reads ({VERSION}); open it with the ember that wrote it", header.version));
    }
    let mut p = Profile::default();
    let mut torn_tail = false;
    for n in 1.. {
        let line = match next_member(&mut r) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(_) => {
                torn_tail = true;
                break;
            }
        };
        let c: ChunkIn = match serde_json::from_slice(&line) {
            Ok(c) => c,
            Err(_) => {
                // A whole member (its CRC checked) that is not a chunk: not a torn write.
                return Err(format!("append {n} of the journal is not one Ember writes"));
            }
        };
        apply(&mut p, c)?;
    }
    file::check(&p).map_err(|e| e.replace("the file is corrupt", "the journal is corrupt"))?;
    p.reindex();
    Ok(Contents { profile: p, output: header.output, torn_tail })
}

/// Reads the journal at `path`.
pub fn read(path: &Path) -> Result<Contents, String> {
    let f = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    read_from(BufReader::new(f)).map_err(|e| format!("cannot read the journal {}: {e}", path.display()))
}

/// One gzip member's content: None at the end of the file, an error for a torn one.
fn next_member<R: BufRead>(r: &mut R) -> io::Result<Option<Vec<u8>>> {
    if r.fill_buf()?.is_empty() {
        return Ok(None);
    }
    // bufread's decoder stops at the end of the member, leaving the next one in `r`.
    let mut out = Vec::new();
    GzDecoder::new(&mut *r).read_to_end(&mut out)?;
    if out.last() != Some(&b'\n') {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "a member without its line end"));
    }
    Ok(Some(out))
}

fn apply(p: &mut Profile, c: ChunkIn) -> Result<(), String> {
    let bad = |what: String| format!("the journal is corrupt: {what}");
    p.meta = c.meta;
    p.threads = c.threads;
    p.processes = c.processes;
    p.strings.extend(c.strings);
    p.functions.extend(c.functions.decode().map_err(bad)?);
    p.frames.extend(c.frames.decode().map_err(bad)?);
    c.stacks.append_to(&mut p.stacks).map_err(bad)?;
    let s = c.samples;
    let n = s.stack.len();
    if s.time_delta_ns.len() != n || s.thread.len() != n || s.flags.len() != n {
        return Err(bad("the sample columns differ in length".into()));
    }
    let mut t = p.samples.time_ns.last().copied().unwrap_or(0) as i64;
    for d in s.time_delta_ns {
        t = t.checked_add(d).filter(|t| *t >= 0).ok_or_else(|| bad("an impossible sample time".into()))?;
        p.samples.time_ns.push(t as u64);
    }
    p.samples.thread.extend(s.thread);
    p.samples.stack.extend(s.stack);
    p.samples.flags.extend(s.flags);
    Ok(())
}

/// A journal left behind, turned into a profile (or dropped when it held no sample).
#[derive(Debug)]
pub struct Recovered {
    pub journal: PathBuf,
    /// Where the profile went; None when the journal held no sample and was removed.
    pub saved: Option<PathBuf>,
    pub samples: usize,
    pub torn_tail: bool,
    /// When the recording's last sample was taken (ms since the Unix epoch; 0 if unknown).
    pub end_unix_ms: u64,
}

/// Turns every journal in `dir` that no living Ember holds into an `.ember` profile beside it,
/// named as its recording would have been (or `<name>-recovered.ember` when that name is taken
/// or in `avoid`, the files this run is about to write), then removes the journal. A journal
/// that cannot be read is left as it is, and its error returned.
pub fn recover(dir: &Path, avoid: &[PathBuf]) -> Vec<Result<Recovered, String>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(SUFFIX) && !n.to_string_lossy().starts_with('.')))
        .collect();
    names.sort();
    for journal in names {
        let Ok(mut f) = File::open(&journal) else { continue };
        // Other programs' `.partial` files (downloads, say) are none of ours.
        let mut head = vec![0; 512];
        let n = f.read(&mut head).unwrap_or(0);
        if !sniff(&head[..n]) {
            continue;
        }
        // Held by a living writer: a recording going on. Kept locked while we recover it.
        let Ok(_lock) = Flock::lock(f, FlockArg::LockExclusiveNonblock) else { continue };
        out.push(recover_one(&journal, dir, avoid));
    }
    out
}

fn recover_one(journal: &Path, dir: &Path, avoid: &[PathBuf]) -> Result<Recovered, String> {
    let r = read(journal).map_err(|e| format!("{e}; it is left as it is"))?;
    let samples = r.profile.samples.len();
    let m = &r.profile.meta;
    let end_unix_ms = if m.start_unix_ms == 0 { 0 } else { m.start_unix_ms + m.duration_ns / 1_000_000 };
    let recovered = |saved| Recovered { journal: journal.to_path_buf(), saved, samples, torn_tail: r.torn_tail, end_unix_ms };
    if samples == 0 {
        let _ = std::fs::remove_file(journal);
        return Ok(recovered(None));
    }
    let stem = strip_extension(&r.output);
    let wanted = r.output.ends_with(&format!(".{}", file::EXTENSION)).then(|| r.output.clone());
    let candidates = wanted
        .into_iter()
        .chain((1..1000).map(|n| if n == 1 { format!("{stem}-recovered.{}", file::EXTENSION) } else { format!("{stem}-recovered-{n}.{}", file::EXTENSION) }));
    for name in candidates {
        // Only a plain name in this folder, whatever the header says.
        if name.contains('/') || name.starts_with('.') {
            continue;
        }
        let path = dir.join(&name);
        if avoid.iter().any(|a| same_file_name(a, &path)) {
            continue;
        }
        match file::save_new(&path, &r.profile) {
            Ok(true) => {
                let _ = std::fs::remove_file(journal);
                file::sync_dir(dir);
                return Ok(recovered(Some(path)));
            }
            Ok(false) => continue,
            Err(e) => return Err(format!("{e:#}; the journal {} is left as it is", journal.display())),
        }
    }
    Err(format!("no free name to recover {} into", journal.display()))
}

fn strip_extension(name: &str) -> &str {
    let lower = name.to_ascii_lowercase();
    for ext in [".ember", ".speedscope.json", ".json", ".pb.gz", ".pprof", ".svg", ".txt", ".collapsed", ".folded"] {
        if lower.ends_with(ext) && name.len() > ext.len() {
            return &name[..name.len() - ext.len()];
        }
    }
    name
}

fn same_file_name(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| {
        let dir = std::fs::canonicalize(folder(p)).unwrap_or_else(|_| folder(p).to_path_buf());
        dir.join(p.file_name().unwrap_or_default())
    };
    canon(a) == canon(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::synth;

    fn grown(p: &Profile, upto: usize) -> Profile {
        // The same recording as it stood after `upto` samples: tables as interned by then.
        let mut q = Profile::new(p.meta.clone());
        for i in 0..upto {
            let frames: Vec<FrameId> = {
                let mut f: Vec<_> = p.stack_frames(p.samples.stack[i]).collect();
                f.reverse();
                f.iter()
                    .map(|&fr| {
                        let frame = p.frames[fr as usize];
                        let func = p.functions[frame.func as usize];
                        let id = q.intern_function(p.str(func.file), p.str(func.name), func.first_line);
                        q.intern_frame(id, frame.line)
                    })
                    .collect()
            };
            let st = q.intern_stack_path(&frames).unwrap();
            let t = p.threads[p.samples.thread[i] as usize].clone();
            let th = q.thread(t.pid, t.tid, Some(&t.name));
            q.push_sample(p.samples.time_ns[i], th, st, p.samples.flags[i]);
        }
        q.processes = p.processes.clone();
        q
    }

    fn sample_profile() -> Profile {
        let p = synth::generate(&synth::Shape { samples: 3000, stacks: 200, max_depth: 30, threads: 3, seed: 7, ..Default::default() });
        grown(&p, p.samples.len())
    }

    #[test]
    fn appends_read_back_as_the_whole_recording() {
        let dir = tempfile::tempdir().unwrap();
        let full = sample_profile();
        let mut j = Journal::create(&dir.path().join("run.ember")).unwrap();
        assert_eq!(j.path().file_name().unwrap(), "run.ember.partial");
        for upto in [0, 1, 500, 500, 1700, full.samples.len()] {
            j.append(&grown(&full, upto), false).unwrap();
        }
        j.append(&full, true).unwrap();
        let r = read(j.path()).unwrap();
        assert!(!r.torn_tail);
        assert_eq!(r.output, "run.ember");
        assert_eq!(r.profile.samples, full.samples);
        assert_eq!(r.profile.stacks, full.stacks);
        assert_eq!(r.profile.frames, full.frames);
        assert_eq!(r.profile.functions, full.functions);
        assert_eq!(r.profile.strings, full.strings);
        assert_eq!(r.profile.threads, full.threads);
        // Any reader of profiles opens a journal too.
        assert_eq!(file::load(j.path()).unwrap().samples, full.samples);
        assert_eq!(crate::profile::formats::read(j.path()).unwrap().samples, full.samples);
    }

    #[test]
    fn a_torn_last_append_loses_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let full = sample_profile();
        let mut j = Journal::create(&dir.path().join("run.ember")).unwrap();
        j.append(&grown(&full, 1000), false).unwrap();
        let whole = std::fs::metadata(j.path()).unwrap().len();
        j.append(&full, false).unwrap();
        let len = std::fs::metadata(j.path()).unwrap().len();
        for cut in [whole + 1, whole + 10, (whole + len) / 2, len - 1] {
            let bytes = std::fs::read(j.path()).unwrap();
            let r = read_from(&bytes[..cut as usize]).unwrap();
            assert!(r.torn_tail, "cut at {cut} of {len}");
            assert_eq!(r.profile.samples.len(), 1000, "cut at {cut} of {len}");
            assert_eq!(r.profile.samples, grown(&full, 1000).samples);
        }
    }

    #[test]
    fn only_journals_no_one_holds_are_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let full = sample_profile();
        let out = dir.path().join("run.ember");
        let mut live = Journal::create(&out).unwrap();
        live.append(&full, true).unwrap();
        // A second recording to the same name gets its own journal.
        let mut left = Journal::create(&out).unwrap();
        assert_eq!(left.path().file_name().unwrap(), "run.ember-2.partial");
        left.append(&grown(&full, 10), true).unwrap();
        let left_path = left.path().to_path_buf();
        drop(left); // its writer is gone (as if killed): the lock goes with it
        // A writer killed before its first sample leaves a journal of a header alone.
        let empty = Journal::create(&dir.path().join("idle.ember")).unwrap();
        let empty_path = dir.path().join("killed-early.ember.partial");
        std::fs::copy(empty.path(), &empty_path).unwrap();
        let gone = empty.path().to_path_buf();
        drop(empty);
        assert!(!gone.exists(), "a journal dropped before any sample is removed");
        let found = recover(dir.path(), std::slice::from_ref(&out));
        assert_eq!(found.len(), 2, "{found:?}");
        let rec: Vec<Recovered> = found.into_iter().map(Result::unwrap).collect();
        let idle = rec.iter().find(|r| r.journal == empty_path).unwrap();
        assert!(idle.saved.is_none() && !empty_path.exists(), "an empty journal is removed");
        let run = rec.iter().find(|r| r.journal == left_path).unwrap();
        assert_eq!(run.samples, 10);
        // run.ember is what this run will write: the recovered one takes another name.
        assert_eq!(run.saved.as_deref(), Some(dir.path().join("run-recovered.ember").as_path()));
        assert_eq!(file::load(run.saved.as_ref().unwrap()).unwrap().samples.len(), 10);
        assert!(!left_path.exists());
        assert!(live.path().exists(), "a journal still being written is left alone");
        live.discard();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "only run-recovered.ember is left");
    }

    #[test]
    fn a_damaged_journal_is_left_in_place_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::create(&dir.path().join("x.ember")).unwrap();
        j.append(&grown(&sample_profile(), 10), false).unwrap();
        // A whole member (not a torn write) that is not an append.
        write_member(&mut j.file, &serde_json::json!({"samples": "garbage"})).unwrap();
        let path = j.path().to_path_buf();
        drop(j);
        // Another program's file with the same suffix is not ours to touch or warn about.
        let foreign = dir.path().join("download.zip.partial");
        std::fs::write(&foreign, b"PK not ours").unwrap();
        let found = recover(dir.path(), &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        let err = found[0].as_ref().unwrap_err();
        assert!(err.contains("is not one Ember writes") && err.contains("left as it is"), "{err}");
        assert!(path.exists() && foreign.exists());
    }
}
