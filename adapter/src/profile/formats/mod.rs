//! Other tools' profile formats: one module per format, behind [`read`] (format detected from
//! the content) and [`write`] (format chosen by the caller or by the output's extension).

pub mod austin;
pub mod collapsed;
pub mod perf;
pub mod pprof;
pub mod speedscope;
pub mod svg;

use super::file;
use super::model::Profile;
use anyhow::{anyhow, bail, Context};
use std::io::{BufWriter, Read, Write};
use std::path::Path;

/// Input formats `read` understands, for error messages.
pub const SUPPORTED_INPUTS: &str = "Ember (.ember), collapsed stacks (Brendan Gregg, py-spy raw, CPython 3.15 --collapsed), speedscope JSON, `perf script` text, Austin text";

/// What Ember can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Ember's own file (.ember): everything, compact, with timestamps.
    Ember,
    /// Collapsed stacks, `frame;frame;... COUNT` (.txt, .collapsed, .folded). `raw` is
    /// py-spy's name for it.
    #[value(alias = "raw", alias = "folded")]
    Collapsed,
    /// speedscope JSON (.speedscope.json, .json).
    Speedscope,
    /// An SVG flamegraph drawn by inferno (.svg). `flamegraph` is py-spy's name for it.
    #[value(alias = "flamegraph")]
    Svg,
    /// pprof: gzipped protobuf, for go tool pprof, Pyroscope, Parca (.pb.gz, .pprof).
    Pprof,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Ember, Format::Collapsed, Format::Speedscope, Format::Svg, Format::Pprof];

    pub fn name(self) -> &'static str {
        match self {
            Format::Ember => "ember",
            Format::Collapsed => "collapsed",
            Format::Speedscope => "speedscope",
            Format::Svg => "svg",
            Format::Pprof => "pprof",
        }
    }

    /// The usual file extension (without a leading dot).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Ember => "ember",
            Format::Collapsed => "txt",
            Format::Speedscope => "speedscope.json",
            Format::Svg => "svg",
            Format::Pprof => "pb.gz",
        }
    }

    /// The format a path's extension implies, if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let ends = |s: &str| name.ends_with(s);
        Some(if ends(".ember") {
            Format::Ember
        } else if ends(".svg") {
            Format::Svg
        } else if ends(".json") {
            Format::Speedscope
        } else if ends(".pb.gz") || ends(".pprof") || ends(".pb") || ends(".prof") {
            Format::Pprof
        } else if ends(".txt") || ends(".collapsed") || ends(".folded") || ends(".stacks") {
            Format::Collapsed
        } else {
            return None;
        })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// "ember, collapsed, speedscope, svg, pprof".
pub fn names() -> String {
    Format::ALL.map(Format::name).join(", ")
}

/// `-` (standard output), or a path that is not a regular file (`/dev/stdout`, a pipe, a
/// terminal): written to as it is. Replacing it with a renamed temp file, as files are, would
/// replace `/dev/stdout` itself with a file.
pub fn is_stream(out: &Path) -> bool {
    out.as_os_str() == "-" || std::fs::metadata(out).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Whether `out` is this process's own standard output (`-`, /dev/stdout, or the file or pipe
/// it is connected to): a program Ember starts must then not print there, into the profile.
pub fn is_own_stdout(out: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    if out.as_os_str() == "-" {
        return true;
    }
    let Ok(ours) = std::fs::metadata("/proc/self/fd/1") else { return false };
    std::fs::metadata(out).is_ok_and(|m| m.dev() == ours.dev() && m.ino() == ours.ino())
}

/// Refuses what [`write`] would refuse for a stream: binary data for a terminal. Checked before
/// a recording, not after it.
pub fn check_stream(format: Format, out: &Path) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !is_stream(out) || !matches!(format, Format::Ember | Format::Pprof) {
        return Ok(());
    }
    let terminal = if out.as_os_str() == "-" {
        std::io::stdout().is_terminal()
    } else {
        // Only a character device can be a terminal; opening a pipe to look would wait for
        // its reader, then hand it an end of file before the profile.
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(out).is_ok_and(|m| m.file_type().is_char_device())
            && std::fs::OpenOptions::new().write(true).open(out).is_ok_and(|f| f.is_terminal())
    };
    if terminal {
        bail!("the {format} format is binary and {} is a terminal: redirect it (`> FILE`, `| ...`) or choose --format collapsed", stream_name(out));
    }
    Ok(())
}

/// How messages name an output: `-` is standard output.
pub fn stream_name(out: &Path) -> String {
    if out.as_os_str() == "-" { "standard output".into() } else { out.display().to_string() }
}

/// Writes `p` to `out` in `format`, atomically (a temp file in the same folder, then rename),
/// so an existing file is replaced only by a complete one; a stream ([`is_stream`]) is written
/// to as it is.
pub fn write(format: Format, p: &Profile, out: &Path) -> anyhow::Result<()> {
    if is_stream(out) {
        check_stream(format, out)?;
        let fail = || format!("cannot write {} to {}", format.name(), stream_name(out));
        let w: Box<dyn Write> = if out.as_os_str() == "-" {
            Box::new(std::io::stdout().lock())
        } else {
            Box::new(std::fs::OpenOptions::new().write(true).open(out).with_context(fail)?)
        };
        let mut w = BufWriter::with_capacity(1 << 16, w);
        write_to(format, p, &mut w).with_context(fail)?;
        return w.flush().with_context(fail);
    }
    if format == Format::Ember {
        file::save(out, p)?;
        crate::profile::store::note_written(out);
        return Ok(());
    }
    let dir = file::folder(out);
    let fail = || format!("cannot write {} to {}", format.name(), out.display());
    let tmp = tempfile::Builder::new().prefix(".ember-").suffix(".tmp").tempfile_in(dir).with_context(fail)?;
    {
        let mut w = BufWriter::with_capacity(1 << 16, tmp.as_file());
        write_to(format, p, &mut w).with_context(fail)?;
        w.flush().with_context(fail)?;
    }
    tmp.as_file().sync_all().with_context(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(out).map_err(|e| e.error).with_context(fail)?;
    Ok(())
}

/// Writes `p` in `format` to any writer (Ember's format uncompressed is `file::write_json`).
pub fn write_to<W: Write>(format: Format, p: &Profile, mut w: W) -> anyhow::Result<()> {
    match format {
        Format::Ember => {
            let mut gz = flate2::write::GzEncoder::new(BufWriter::new(&mut w), flate2::Compression::default());
            file::write_json(BufWriter::new(&mut gz), p)?;
            gz.finish()?.flush()?;
            Ok(())
        }
        Format::Collapsed => collapsed::write(p, w),
        Format::Speedscope => speedscope::write(p, w),
        Format::Svg => svg::write(p, w),
        Format::Pprof => pprof::write(p, w),
    }
}

/// What `read` found a file to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Ember,
    Collapsed,
    Speedscope,
    Perf,
    Austin,
}

/// Tells the format from the first bytes of a file.
pub fn detect(head: &[u8]) -> Option<InputFormat> {
    if file::sniff(head) {
        return Some(InputFormat::Ember);
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(64 * 1024)]);
    if speedscope::sniff(&text) {
        Some(InputFormat::Speedscope)
    } else if austin::sniff(&text) {
        Some(InputFormat::Austin)
    } else if perf::sniff(&text) {
        Some(InputFormat::Perf)
    } else if collapsed::sniff(&text) {
        Some(InputFormat::Collapsed)
    } else {
        None
    }
}

/// Reads a profile in any supported format, detected from its content.
pub fn read(path: &Path) -> anyhow::Result<Profile> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .with_context(|| format!("cannot read {}", path.display()))?;
    read_bytes(&bytes).map_err(|e| anyhow!("cannot read the profile {}: {e:#}", path.display()))
}

/// Reads a profile from memory; the error says what the content is not.
pub fn read_bytes(bytes: &[u8]) -> anyhow::Result<Profile> {
    if bytes.is_empty() {
        bail!("the file is empty");
    }
    if bytes.starts_with(&[0x1f, 0x8b]) && !file::sniff(bytes) {
        bail!(
            "this is gzip-compressed data but not an Ember profile (pprof cannot be read, only written); supported inputs: {SUPPORTED_INPUTS}"
        );
    }
    let Some(format) = detect(bytes) else {
        bail!("unrecognised format; supported inputs: {SUPPORTED_INPUTS}");
    };
    match format {
        InputFormat::Ember => file::load_from(bytes).map_err(|e| anyhow!(e)),
        InputFormat::Speedscope => speedscope::read(bytes),
        InputFormat::Austin => austin::read(bytes),
        InputFormat::Perf => perf::read(bytes),
        InputFormat::Collapsed => {
            let text = std::str::from_utf8(bytes).map_err(|e| anyhow!("collapsed stacks must be UTF-8 text ({e})"))?;
            let source = if text.starts_with("tid:") { "cpython-collapsed" } else { "collapsed" };
            collapsed::read(text.as_bytes(), source)
        }
    }
}
