//! The `.ember` profile file: gzip-compressed JSON described by `schemas/profile.schema.json`
//! (see docs/profile-format.md). Tables are stored as columns of integers; sample times are
//! delta-encoded and stack parents are stored relative to the node's own index, so gzip sees
//! small, repetitive numbers (a few bytes per sample).
//!
//! Writing is atomic (temp file in the same folder, fsync, rename, fsync of the folder): a
//! profile already on disk is never replaced by a half-written one. Reading streams the JSON
//! straight into the profile's columns (no intermediate copy), checks every cross-reference, and
//! turns any damage into an error naming the file and the problem.

use super::model::*;
use anyhow::{anyhow, Context};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

/// Value of the `format` field: what tells an Ember profile from any other JSON.
pub const FORMAT_NAME: &str = "ember-profile";
/// The file format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The usual extension.
pub const EXTENSION: &str = "ember";

/// gzip level: 6 is the usual speed/size balance; the columns compress well at any level.
const GZIP_LEVEL: u32 = 6;

/// Writes `p` to `path` atomically.
pub fn save(path: &Path, p: &Profile) -> anyhow::Result<()> {
    save_impl(path, p, true).map(|_| ())
}

/// Like [`save`], but never replaces an existing file: Ok(false) when `path` already exists.
pub fn save_new(path: &Path, p: &Profile) -> anyhow::Result<bool> {
    save_impl(path, p, false)
}

/// The folder a file is (or will be) in: `.` for a bare file name.
pub fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn save_impl(path: &Path, p: &Profile, replace: bool) -> anyhow::Result<bool> {
    let dir = folder(path);
    let fail = || format!("cannot save the profile to {}", path.display());
    let tmp = tempfile::Builder::new()
        .prefix(".ember-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(fail)?;
    {
        // serde_json writes number by number: buffer before the compressor, not only after.
        let gz = GzEncoder::new(BufWriter::with_capacity(1 << 16, tmp.as_file()), flate2::Compression::new(GZIP_LEVEL));
        let mut json = BufWriter::with_capacity(1 << 16, gz);
        write_json(&mut json, p).with_context(fail)?;
        let gz = json.into_inner().map_err(|e| e.into_error()).with_context(fail)?;
        gz.finish().with_context(fail)?.flush().with_context(fail)?;
    }
    tmp.as_file().sync_all().with_context(fail)?;
    set_readable(tmp.as_file());
    if replace {
        tmp.persist(path).map_err(|e| e.error).with_context(fail)?;
    } else {
        match tmp.persist_noclobber(path) {
            Ok(_) => {}
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(e.error).with_context(fail),
        }
    }
    sync_dir(dir);
    Ok(true)
}

/// Writes the uncompressed JSON document (what the schema describes).
pub fn write_json<W: Write>(w: W, p: &Profile) -> anyhow::Result<()> {
    let mut ser = serde_json::Serializer::new(w);
    FileRef(p).serialize(&mut ser)?;
    Ok(())
}

/// Reads a profile written by [`save`] (gzip or plain JSON).
pub fn load(path: &Path) -> anyhow::Result<Profile> {
    let file = File::open(path).with_context(|| format!("cannot open the profile {}", path.display()))?;
    load_from(file).map_err(|e| anyhow!("cannot load the profile {}: {e}", path.display()))
}

/// Reads a profile from any reader (gzip or plain JSON). The error says what is wrong.
pub fn load_from<R: Read>(r: R) -> Result<Profile, String> {
    let mut r = BufReader::with_capacity(1 << 16, r);
    let head = peek(&mut r, 2).map_err(|e| format!("read failed: {e}"))?;
    if head.is_empty() {
        return Err("the file is empty (0 bytes); the recording was probably interrupted before it was saved".into());
    }
    if head == [0x1f] {
        return Err("the file is truncated (it ends after one byte); it was not completely written".into());
    }
    let result = if head == [0x1f, 0x8b] {
        if super::journal::sniff(r.fill_buf().map_err(|e| format!("read failed: {e}"))?) {
            // A recording's journal (a killed Ember's, or one still being written).
            return super::journal::read_from(r).map(|j| j.profile);
        }
        parse(BufReader::with_capacity(1 << 16, GzDecoder::new(r)))
    } else if first_non_space(&mut r)? == Some(b'{') {
        parse(r)
    } else {
        return Err(format!(
            "not an Ember profile (it is neither gzip-compressed nor JSON); to read another format use `ember convert` (formats: {})",
            super::formats::SUPPORTED_INPUTS
        ));
    };
    let mut p = result?;
    p.reindex();
    Ok(p)
}

/// True when `bytes` (the start of a file) look like an Ember profile.
pub fn sniff(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        if super::journal::sniff(bytes) {
            return true;
        }
        let mut head = Vec::new();
        let _ = GzDecoder::new(bytes).take(256).read_to_end(&mut head);
        return contains(&head, FORMAT_NAME.as_bytes());
    }
    contains(&bytes[..bytes.len().min(256)], format!("\"format\":\"{FORMAT_NAME}\"").as_bytes())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn peek<R: Read>(r: &mut BufReader<R>, n: usize) -> std::io::Result<Vec<u8>> {
    use std::io::BufRead;
    let buf = r.fill_buf()?;
    Ok(buf[..buf.len().min(n)].to_vec())
}

fn first_non_space<R: Read>(r: &mut BufReader<R>) -> Result<Option<u8>, String> {
    use std::io::BufRead;
    let buf = r.fill_buf().map_err(|e| format!("read failed: {e}"))?;
    Ok(buf.iter().copied().find(|b| !b.is_ascii_whitespace()))
}

fn parse<R: Read>(r: R) -> Result<Profile, String> {
    let mut de = serde_json::Deserializer::from_reader(r);
    let p = FileVisitor.deserialize(&mut de).map_err(explain)?;
    de.end().map_err(explain)?;
    check(&p)?;
    Ok(p)
}

/// Turns a serde_json error (which may wrap a gzip error) into a sentence about the file.
fn explain(e: serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "the file is truncated (it ends in the middle of the data); it was not completely written".into(),
        Category::Io => {
            let io: std::io::Error = e.into();
            if io.kind() == std::io::ErrorKind::UnexpectedEof {
                "the file is truncated (the compressed data ends early); it was not completely written".into()
            } else {
                format!("the compressed data is corrupt ({io})")
            }
        }
        Category::Syntax => format!("the file is corrupt (invalid JSON: {e})"),
        Category::Data => {
            let msg = e.to_string();
            if msg.contains("missing field `format`") {
                "not an Ember profile (the JSON has no \"format\": \"ember-profile\" field); to read another format use `ember convert`".into()
            } else {
                format!("the file is corrupt or not an Ember profile ({msg})")
            }
        }
    }
}

/// Cross-checks every reference so that no later view can index out of bounds.
pub(super) fn check(p: &Profile) -> Result<(), String> {
    if p.threads.len() > ThreadIdx::MAX as usize + 1 {
        return Err(format!("the file is corrupt: {} threads, more than {} a profile can hold", p.threads.len(), ThreadIdx::MAX as usize + 1));
    }
    let ns = p.strings.len();
    for (i, f) in p.functions.iter().enumerate() {
        if f.file as usize >= ns || f.name as usize >= ns {
            return Err(format!("the file is corrupt: function {i} refers to string {} but there are {ns} strings", f.file.max(f.name)));
        }
    }
    let nf = p.functions.len();
    for (i, f) in p.frames.iter().enumerate() {
        if f.func as usize >= nf {
            return Err(format!("the file is corrupt: frame {i} refers to function {} but there are {nf} functions", f.func));
        }
    }
    let nfr = p.frames.len();
    for (i, s) in p.stacks.iter().enumerate() {
        if s.frame as usize >= nfr {
            return Err(format!("the file is corrupt: stack {i} refers to frame {} but there are {nfr} frames", s.frame));
        }
    }
    let s = &p.samples;
    let n = s.stack.len();
    if s.time_ns.len() != n || s.thread.len() != n || s.flags.len() != n {
        return Err(format!(
            "the file is corrupt: sample columns differ in length (time {}, thread {}, stack {}, flags {})",
            s.time_ns.len(), s.thread.len(), n, s.flags.len()
        ));
    }
    let nst = p.stacks.len();
    if let Some(i) = s.stack.iter().position(|&x| x as usize >= nst) {
        return Err(format!("the file is corrupt: sample {i} refers to stack {} but there are {nst} stacks", s.stack[i]));
    }
    let nt = p.threads.len();
    if let Some(i) = s.thread.iter().position(|&x| x as usize >= nt) {
        return Err(format!("the file is corrupt: sample {i} refers to thread {} but there are {nt} threads", s.thread[i]));
    }
    Ok(())
}

fn set_readable(f: &File) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = f.set_permissions(std::fs::Permissions::from_mode(0o644));
    }
}

/// Makes the rename durable. Best effort: some filesystems refuse to fsync a directory.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

// ---------------------------------------------------------------------------------------------
// Writing: serialize straight from the profile, computing the encoded columns on the fly.

struct FileRef<'a>(&'a Profile);

impl Serialize for FileRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        let mut m = s.serialize_map(None)?;
        // `format` and `version` first: a reader rejects another version before parsing the rest.
        m.serialize_entry("format", FORMAT_NAME)?;
        m.serialize_entry("version", &FORMAT_VERSION)?;
        m.serialize_entry("writer", &format!("ember {}", env!("CARGO_PKG_VERSION")))?;
        m.serialize_entry("meta", &p.meta)?;
        m.serialize_entry("threads", &p.threads)?;
        m.serialize_entry("processes", &p.processes)?;
        m.serialize_entry("strings", &p.strings)?;
        m.serialize_entry("functions", &Functions(&p.functions))?;
        m.serialize_entry("frames", &Frames(&p.frames))?;
        m.serialize_entry("stacks", &Stacks(&p.stacks, 0))?;
        m.serialize_entry("samples", &SamplesOut(&p.samples))?;
        m.end()
    }
}

/// A column computed from a slice, serialized without building a Vec.
pub(super) struct Col<'a, T, F: Fn(usize, &T) -> i64>(pub(super) &'a [T], pub(super) F);

impl<T, F: Fn(usize, &T) -> i64> Serialize for Col<'_, T, F> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (i, x) in self.0.iter().enumerate() {
            seq.serialize_element(&(self.1)(i, x))?;
        }
        seq.end()
    }
}

pub(super) struct Functions<'a>(pub(super) &'a [Function]);
impl Serialize for Functions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("file", &Col(self.0, |_, f| f.file as i64))?;
        m.serialize_entry("name", &Col(self.0, |_, f| f.name as i64))?;
        m.serialize_entry("first_line", &Col(self.0, |_, f| f.first_line as i64))?;
        m.end()
    }
}

pub(super) struct Frames<'a>(pub(super) &'a [Frame]);
impl Serialize for Frames<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("func", &Col(self.0, |_, f| f.func as i64))?;
        m.serialize_entry("line", &Col(self.0, |_, f| f.line as i64))?;
        m.end()
    }
}

/// Stack nodes from index `.1` of the stack table on (a journal writes the table in parts).
pub(super) struct Stacks<'a>(pub(super) &'a [StackNode], pub(super) usize);
impl Serialize for Stacks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        // index - parent (parents always come first), 0 for a root: mostly 1s and small numbers.
        let first = self.1;
        m.serialize_entry(
            "parent_delta",
            &Col(self.0, |i, n| if n.parent == NO_PARENT { 0 } else { (first + i) as i64 - n.parent as i64 }),
        )?;
        m.serialize_entry("frame", &Col(self.0, |_, n| n.frame as i64))?;
        m.end()
    }
}

struct SamplesOut<'a>(&'a Samples);
impl Serialize for SamplesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let smp = self.0;
        let t = &smp.time_ns;
        let step = typical_step(t);
        let mut m = s.serialize_map(Some(6))?;
        // `count` first: the reader reserves each column exactly once.
        m.serialize_entry("count", &smp.len())?;
        m.serialize_entry("time_step_ns", &step)?;
        m.serialize_entry(
            "time_delta_ns",
            &Col(t, |i, &x| {
                let prev = if i == 0 { 0 } else { t[i - 1] };
                x as i64 - prev as i64 - step as i64
            }),
        )?;
        m.serialize_entry("thread", &smp.thread)?;
        m.serialize_entry("stack", &smp.stack)?;
        m.serialize_entry("flags", &smp.flags)?;
        m.end()
    }
}

/// The most common non-zero gap between consecutive samples (the sampling interval), so the
/// stored deltas are the small jitter around it. 0 when there is no such gap.
fn typical_step(t: &[u64]) -> u64 {
    let mut gaps: Vec<u64> = t.windows(2).take(4096).filter(|w| w[1] > w[0]).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return 0;
    }
    gaps.sort_unstable();
    gaps[gaps.len() / 2]
}

// ---------------------------------------------------------------------------------------------
// Reading: a hand-written visitor so that `format`/`version` are checked as soon as they are
// read and sample columns are reserved once from `count`.

struct FileVisitor;

impl<'de> DeserializeSeed<'de> for FileVisitor {
    type Value = Profile;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Profile, D::Error> {
        d.deserialize_map(self)
    }
}

#[derive(Deserialize)]
pub(super) struct FunctionsIn {
    file: Vec<StrId>,
    name: Vec<StrId>,
    first_line: Vec<u32>,
}

#[derive(Deserialize)]
pub(super) struct FramesIn {
    func: Vec<FuncId>,
    line: Vec<u32>,
}

#[derive(Deserialize)]
pub(super) struct StacksIn {
    parent_delta: Vec<u32>,
    frame: Vec<FrameId>,
}

impl FunctionsIn {
    pub(super) fn decode(self) -> Result<Vec<Function>, String> {
        if self.file.len() != self.name.len() || self.file.len() != self.first_line.len() {
            return Err("the function columns differ in length".into());
        }
        Ok((0..self.file.len()).map(|i| Function { file: self.file[i], name: self.name[i], first_line: self.first_line[i] }).collect())
    }
}

impl FramesIn {
    pub(super) fn decode(self) -> Result<Vec<Frame>, String> {
        if self.func.len() != self.line.len() {
            return Err("the frame columns differ in length".into());
        }
        Ok(self.func.iter().zip(&self.line).map(|(&func, &line)| Frame { func, line }).collect())
    }
}

impl StacksIn {
    /// Appends these nodes to `out`; their parent deltas count from `out`'s first node.
    pub(super) fn append_to(self, out: &mut Vec<StackNode>) -> Result<(), String> {
        if self.parent_delta.len() != self.frame.len() {
            return Err("the stack columns differ in length".into());
        }
        out.reserve(self.frame.len());
        for (&d, &frame) in self.parent_delta.iter().zip(&self.frame) {
            let i = out.len();
            let parent = match d {
                0 => NO_PARENT,
                d if d as usize <= i => (i - d as usize) as StackId,
                d => return Err(format!("stack {i} has parent_delta {d}, pointing before the first stack")),
            };
            out.push(StackNode { parent, frame });
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for FileVisitor {
    type Value = Profile;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an Ember profile (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Profile, A::Error> {
        let mut p = Profile::default();
        let (mut format, mut version, mut samples) = (false, false, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    let v: String = map.next_value()?;
                    if v != FORMAT_NAME {
                        return Err(de::Error::custom(format!(
                            "not an Ember profile (its \"format\" is {v:?}, expected {FORMAT_NAME:?})"
                        )));
                    }
                    format = true;
                }
                "version" => {
                    let v: u64 = map.next_value()?;
                    if v != FORMAT_VERSION as u64 {
                        return Err(de::Error::custom(format!(
                            "unsupported Ember profile version {v}: this ember (version {}) reads version {FORMAT_VERSION}; {}",
                            env!("CARGO_PKG_VERSION"),
                            if v > FORMAT_VERSION as u64 { "upgrade ember to open it" } else { "it was written by an incompatible ember" }
                        )));
                    }
                    version = true;
                }
                "meta" => p.meta = map.next_value()?,
                "threads" => p.threads = map.next_value()?,
                "processes" => p.processes = map.next_value()?,
                "strings" => p.strings = map.next_value()?,
                "functions" => p.functions = map.next_value::<FunctionsIn>()?.decode().map_err(de::Error::custom)?,
                "frames" => p.frames = map.next_value::<FramesIn>()?.decode().map_err(de::Error::custom)?,
                "stacks" => {
                    p.stacks.clear();
                    map.next_value::<StacksIn>()?.append_to(&mut p.stacks).map_err(de::Error::custom)?;
                }
                "samples" => {
                    p.samples = map.next_value_seed(SamplesSeed)?;
                    samples = true;
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        if !format {
            return Err(de::Error::missing_field("format"));
        }
        if !version {
            return Err(de::Error::custom("the file has no \"version\" field"));
        }
        if !samples {
            return Err(de::Error::custom("the file has no \"samples\""));
        }
        Ok(p)
    }
}

struct SamplesSeed;

impl<'de> DeserializeSeed<'de> for SamplesSeed {
    type Value = Samples;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Samples, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SamplesSeed {
    type Value = Samples;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the samples object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Samples, A::Error> {
        let mut s = Samples::default();
        let mut count: Option<usize> = None;
        let mut step: u64 = 0;
        let mut deltas_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "count" => {
                    let n: u64 = map.next_value()?;
                    let n = usize::try_from(n).map_err(|_| de::Error::custom("sample count too large"))?;
                    reserve(&mut s.time_ns, n)?;
                    reserve(&mut s.thread, n)?;
                    reserve(&mut s.stack, n)?;
                    reserve(&mut s.flags, n)?;
                    count = Some(n);
                }
                "time_step_ns" => step = map.next_value()?,
                // Stored: running sums of (delta) here; the step is added once all is read,
                // so field order does not matter.
                "time_delta_ns" => {
                    map.next_value_seed(PushSeq(&mut s.time_ns, DeltaSum::default()))?;
                    deltas_seen = true;
                }
                "thread" => map.next_value_seed(PushSeq(&mut s.thread, Plain))?,
                "stack" => map.next_value_seed(PushSeq(&mut s.stack, Plain))?,
                "flags" => map.next_value_seed(PushSeq(&mut s.flags, Plain))?,
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        if !deltas_seen {
            return Err(de::Error::missing_field("time_delta_ns"));
        }
        for (i, t) in s.time_ns.iter_mut().enumerate() {
            // t holds sum(delta) as i64 bits; time[i] = sum(delta[..=i]) + (i+1)*step.
            let v = (*t as i64 as i128) + (i as i128 + 1) * step as i128;
            if !(0..=i64::MAX as i128).contains(&v) {
                return Err(de::Error::custom(format!("sample {i} has an impossible timestamp ({v} ns)")));
            }
            *t = v as u64;
        }
        if let Some(n) = count {
            if s.stack.len() != n {
                return Err(de::Error::custom(format!("the file says {n} samples but holds {}", s.stack.len())));
            }
        }
        Ok(s)
    }
}

fn reserve<T, E: de::Error>(v: &mut Vec<T>, n: usize) -> Result<(), E> {
    v.try_reserve_exact(n)
        .map_err(|_| E::custom(format!("the file claims {n} samples, more than this machine can hold")))
}

/// How an element read from the file becomes a column value.
trait Decode<T> {
    type Raw: for<'a> Deserialize<'a>;
    fn decode<E: de::Error>(&mut self, raw: Self::Raw) -> Result<T, E>;
}

struct Plain;
impl<T: for<'a> Deserialize<'a>> Decode<T> for Plain {
    type Raw = T;
    fn decode<E: de::Error>(&mut self, raw: T) -> Result<T, E> {
        Ok(raw)
    }
}

#[derive(Default)]
struct DeltaSum(i64);
impl Decode<u64> for DeltaSum {
    type Raw = i64;
    fn decode<E: de::Error>(&mut self, raw: i64) -> Result<u64, E> {
        self.0 = self.0.checked_add(raw).ok_or_else(|| E::custom("a sample time overflows"))?;
        Ok(self.0 as u64)
    }
}

/// Appends a JSON array's elements to an existing (pre-reserved) column.
struct PushSeq<'v, T, D>(&'v mut Vec<T>, D);

impl<'de, T, D: Decode<T>> DeserializeSeed<'de> for PushSeq<'_, T, D> {
    type Value = ();
    fn deserialize<De: Deserializer<'de>>(self, d: De) -> Result<(), De::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T, D: Decode<T>> Visitor<'de> for PushSeq<'_, T, D> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of integers")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.0.clear();
        while let Some(raw) = seq.next_element::<D::Raw>()? {
            let v = self.1.decode(raw)?;
            if self.0.len() == self.0.capacity() {
                self.0.try_reserve(1).map_err(|_| de::Error::custom("out of memory reading samples"))?;
            }
            self.0.push(v);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile with every field of `Profile` and `Meta` set to something non-default.
    fn full_profile() -> Profile {
        let mut p = Profile::new(Meta {
            source: "ember".into(),
            start_unix_ms: 1_795_262_861_123,
            duration_ns: 2_500_000_000,
            rate_hz: Some(997.5),
            command_line: vec!["python3".into(), "app.py".into(), "--naïve ✓".into()],
            python_version: Some("3.12.4".into()),
            dropped: Dropped { torn: 3, overflow: 4, errors: 5 },
            timed: true,
            interval_ns: 1_002_500,
        });
        p.processes.push(Process {
            pid: 100,
            parent: None,
            command_line: vec!["python3".into(), "app.py".into()],
            python_version: Some("3.12.4".into()),
            exit_code: Some(0),
        });
        p.processes.push(Process { pid: 101, parent: Some(100), command_line: vec![], python_version: None, exit_code: None });
        let main = p.thread(100, 100, Some("MainThread"));
        let worker = p.thread(101, 105, Some("wörker"));
        let f_main = p.intern_function("/src/app.py", "main", 1);
        let f_work = p.intern_function("/src/app.py", "Worker.run", 10);
        let f_leaf = p.intern_function("/usr/lib/python3.12/json/decoder.py", "JSONDecoder.decode", 332);
        let a = p.intern_frame(f_main, 5);
        let b = p.intern_frame(f_work, 12);
        let c = p.intern_frame(f_leaf, 0);
        let s1 = p.intern_stack_path(&[a, b]).unwrap();
        let s2 = p.intern_stack_path(&[a, b, c]).unwrap();
        let s3 = p.intern_stack_path(&[c]).unwrap();
        let mut t = 0u64;
        for i in 0..1000u64 {
            t += 1_000_000 + (i * 7919) % 5000;
            let (th, st) = match i % 3 { 0 => (main, s1), 1 => (worker, s2), _ => (main, s3) };
            p.push_sample(t, th, st, (i % 4) as u8);
        }
        // Out-of-order and simultaneous samples (several threads at one instant) must survive.
        p.push_sample(t, worker, s1, FLAG_RUNNING | FLAG_GIL);
        p.push_sample(t - 500, main, s3, 0);
        p
    }

    fn assert_same(a: &Profile, b: &Profile) {
        assert_eq!(a.meta, b.meta);
        assert_eq!(a.strings, b.strings);
        assert_eq!(a.functions, b.functions);
        assert_eq!(a.frames, b.frames);
        assert_eq!(a.stacks, b.stacks);
        assert_eq!(a.threads, b.threads);
        assert_eq!(a.processes, b.processes);
        assert_eq!(a.samples, b.samples);
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.ember");
        let p = full_profile();
        save(&path, &p).unwrap();
        let mut q = load(&path).unwrap();
        assert_same(&p, &q);
        // The interning maps were rebuilt: interning existing things returns existing ids.
        let n = q.strings.len();
        let f = q.intern_function("/src/app.py", "Worker.run", 10);
        assert_eq!(f, 1);
        assert_eq!(q.strings.len(), n);
        assert_eq!(q.thread(101, 105, None), 1);
        let fr = q.intern_frame(0, 5);
        assert_eq!(q.intern_stack_path(&[fr]), Some(0));
    }

    #[test]
    fn empty_profile_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.ember");
        let p = Profile::default();
        save(&path, &p).unwrap();
        assert_same(&p, &load(&path).unwrap());
    }

    #[test]
    fn plain_json_is_accepted() {
        let mut buf = Vec::new();
        let p = full_profile();
        write_json(&mut buf, &p).unwrap();
        assert!(sniff(&buf));
        assert_same(&p, &load_from(&buf[..]).unwrap());
    }

    #[test]
    fn save_replaces_atomically_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.ember");
        std::fs::write(&path, b"old").unwrap();
        save(&path, &full_profile()).unwrap();
        assert!(sniff(&std::fs::read(&path).unwrap()));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn save_into_missing_folder_fails_clearly() {
        let err = save(Path::new("/nonexistent-ember-dir/p.ember"), &full_profile()).unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent-ember-dir/p.ember"), "{err:#}");
    }

    fn load_err(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.ember");
        std::fs::write(&path, bytes).unwrap();
        let e = format!("{:#}", load(&path).unwrap_err());
        assert!(e.contains("bad.ember"), "error must name the file: {e}");
        e
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn saved_bytes() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.ember");
        save(&path, &full_profile()).unwrap();
        std::fs::read(path).unwrap()
    }

    #[test]
    fn empty_file() {
        assert!(load_err(b"").contains("empty"));
    }

    #[test]
    fn garbage_file() {
        assert!(load_err(b"\x00\x01garbage bytes").contains("not an Ember profile"));
        assert!(load_err(b"process 1;main (a.py:1) 3\n").contains("not an Ember profile"));
    }

    #[test]
    fn missing_file_names_it() {
        let e = format!("{:#}", load(Path::new("/nonexistent/x.ember")).unwrap_err());
        assert!(e.contains("/nonexistent/x.ember"), "{e}");
    }

    #[test]
    fn truncated_files_at_every_cut() {
        let bytes = saved_bytes();
        // Every cut of the compressed file, from the header to the last byte of the trailer.
        let step = (bytes.len() / 200).max(1);
        let mut cuts: Vec<usize> = (1..bytes.len()).step_by(step).collect();
        cuts.extend([bytes.len() - 1, bytes.len() - 4, bytes.len() - 8]);
        for cut in cuts {
            let e = load_err(&bytes[..cut]);
            assert!(e.contains("truncated") || e.contains("corrupt"), "cut at {cut}: {e}");
        }
        // Uncompressed JSON cut short.
        let mut json = Vec::new();
        write_json(&mut json, &full_profile()).unwrap();
        assert!(load_err(&json[..json.len() / 2]).contains("truncated"));
    }

    #[test]
    fn corrupt_bytes_are_detected() {
        let bytes = saved_bytes();
        let mut positions: Vec<usize> = (10..bytes.len()).step_by((bytes.len() / 150).max(1)).collect();
        positions.extend([12, bytes.len() / 3, bytes.len() / 2, bytes.len() - 6]);
        for pos in positions {
            let mut b = bytes.clone();
            b[pos] ^= 0x55;
            // A flipped bit is caught by inflate, JSON, the reference checks or gzip's CRC.
            let e = load_err(&b);
            assert!(e.contains("corrupt") || e.contains("truncated") || e.contains("not an Ember"), "flip at {pos}: {e}");
        }
    }

    #[test]
    fn other_json_is_not_an_ember_profile() {
        assert!(load_err(br#"{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[]}"#)
            .contains("not an Ember profile"));
        assert!(load_err(&gz(br#"{"format":"speedscope","version":1}"#)).contains("not an Ember profile"));
        assert!(load_err(b"[1,2,3]").contains("not an Ember profile") || load_err(b"[1,2,3]").contains("corrupt"));
    }

    #[test]
    fn wrong_version_says_so() {
        let e = load_err(&gz(br#"{"format":"ember-profile","version":99,"samples":{"new":"layout"}}"#));
        assert!(e.contains("version 99") && e.contains("upgrade ember"), "{e}");
    }

    #[test]
    fn dangling_references_are_rejected() {
        let mut json = Vec::new();
        write_json(&mut json, &full_profile()).unwrap();
        let text = String::from_utf8(json).unwrap();
        let bad = text.replace("\"stack\":[1,2,", "\"stack\":[999,2,");
        assert_ne!(bad, text);
        let e = load_err(bad.as_bytes());
        assert!(e.contains("stack 999"), "{e}");
        let bad = text.replace("\"count\":1002", "\"count\":5");
        assert!(load_err(bad.as_bytes()).contains("says 5 samples"));
        let bad = text.replace("\"parent_delta\":[0,1,", "\"parent_delta\":[0,7,");
        assert!(load_err(bad.as_bytes()).contains("parent_delta"));
        let bad = text.replace("\"func\":[0,", "\"func\":[77,");
        assert!(load_err(bad.as_bytes()).contains("function 77"));
        let bad = text.replacen("\"thread\":[0,1,", "\"thread\":[0,9,", 1);
        assert!(load_err(bad.as_bytes()).contains("thread 9"));
    }

    #[test]
    fn huge_claimed_count_is_an_error_not_an_abort() {
        let e = load_err(br#"{"format":"ember-profile","version":1,"samples":{"count":18446744073709551615,"time_delta_ns":[]}}"#);
        assert!(e.contains("samples"), "{e}");
    }
}
