//! Walks every thread's Python stack in one process.
//!
//! Each thread is read with one `process_vm_readv` call, using last sample's addresses as
//! guesses: on 3.11+ the used part of its frame chunk, the thread state, and the chunk again
//! (see `read_interp_stack`); on ≤3.10 the thread state, its previous frame chain, and the
//! thread state again. The stack is then parsed locally and validated; a stack the target
//! changed under our feet is retried, then dropped and counted as torn. Code-object metadata
//! and (code, position) → frame id are cached so a steady-state sample interns nothing.

use crate::error::Error;
use crate::freeze::Frozen;
use crate::event::{Batch, Sample, ThreadInfo, FLAG_GIL, FLAG_RUNNING};
use crate::frames::{FrameId, FrameInfo, FrameTable};
use crate::layout::{self, CurrentFrame, GENERATOR_OWNER, FrameSize, Frames, Gil, InterpFrame, Layout, LineTable, Liveness};
use crate::linetable::Lines;
use crate::memory::{Bytes, Remote};
use crate::objects::Objects;
use crate::process::{self, ThreadStat};
use crate::python::Interpreter;
use crate::thread_names::ThreadNames;
use crate::unicode;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A read that took longer than this was preempted between its copies; retry.
const MAX_READ_TIME: Duration = Duration::from_micros(40);
/// More time allowed per KiB read: a stack thousands of frames deep spans dozens of 16 KiB
/// chunks, whose copy alone outlasted MAX_READ_TIME (a 3000-deep recursion lost 95% of its
/// samples as preempted).
const PER_KIB: Duration = Duration::from_micros(1);
const PER_REGION: Duration = Duration::from_micros(3);

/// How long a read of `bytes` may take before it counts as preempted.
fn max_read_time(bytes: usize) -> Duration {
    MAX_READ_TIME + PER_KIB * (bytes / 1024) as u32
}
const MAX_DEPTH: usize = 10_000;
const MAX_THREADS: usize = 4096;
/// Attempts per sample; the first sample of a thread spends up to two learning its addresses.
/// Attempts after MIN_ATTEMPTS also need time left in `SampleOptions::retry_budget`: each one
/// copies the thread's stack again, pulling cache lines the target is writing (see
/// docs/architecture.md, "Reading disturbs the target").
const RETRIES: usize = 16;
const MIN_ATTEMPTS: usize = 2;
/// `--blocking`: a stopped target is not disturbed by a read, and each retry there follows a
/// lesson (a chunk, an older chunk, a C-level frame met for the first time), so more are free.
const MIN_ATTEMPTS_STOPPED: usize = 4;
/// Cached code objects are checked this often for having been freed and their address reused:
/// those of each thread's last sample, and a share of the rest in rotation.
const CODES_CHECK_EVERY: Duration = Duration::from_millis(2);
const CODES_CHECK_ROTATION: usize = 128;
/// How often the process is checked for being stopped (SIGSTOP, a debugger, a DAP `pause`).
/// Its threads' own states are not read when they hold the GIL, so without this a stopped
/// process would keep yielding "running" samples of where it stopped.
const STOPPED_CHECK_EVERY: Duration = Duration::from_millis(5);
/// Thread names are read again this often, to catch renames.
const NAMES_EVERY: Duration = Duration::from_secs(1);
/// A new Thread enters `threading._active` just after its thread state appears: while a thread
/// younger than NAME_WAIT has no Python name, names are read again every NAMES_RETRY.
const NAMES_RETRY: Duration = Duration::from_millis(50);
const NAME_WAIT: Duration = Duration::from_secs(3);
/// Extra bytes read past last sample's chunk top, so a slightly deeper stack needs no re-read.
const CHUNK_SLACK: usize = 512;
/// Beyond the top, what a read that first asked the thread state copies: the target may push
/// ~2 KiB of frames in the microsecond between the two calls.
const FRESH_SLACK: usize = 4096;
/// Callees climbed above the frame that was current, to the one running at the copy.
const MAX_CLIMB: usize = 256;
/// Frames outside the chunk (generators', C-stack entry frames) read with the chunk, per list.
const MAX_OUTSIDE: usize = 32;
/// 3.11/3.12: C-level frames whose current frame is read on the guess that one is current,
/// each an 8-byte region; one unused for CFRAME_FORGET samples is dropped. Code calling back
/// through C nests an eval loop, and a C-level frame, per level: with 3 guesses a recursion 11
/// deep through `map` missed on most reads (3.11 dropped 4% of its samples, 3.12 more).
const CFRAME_GUESSES: usize = 24;
const CFRAME_FORGET: u8 = 64;
/// Frames outside the chunk read on their own while looking for the top.
const MAX_TOP_READS: usize = 4;
/// 3.12+: C-stack entry frames remembered per thread (one per eval loop nested through C).
const MAX_ENTRIES: usize = 64;
/// Older chunks a stack may span, below the one it runs in.
const MAX_OLDER_CHUNKS: usize = 256;
/// Frames outside the chunk one walk may read one by one (those not met there last sample).
const MAX_EXTRA_READS: usize = 512;
/// CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR.
const CO_GENERATOR_KINDS: i32 = 0x20 | 0x80 | 0x200;
/// A stack chunk's header: previous chunk, size, words in use; the frames follow.
const CHUNK_HEADER: usize = 24;
/// A stack chunk's size when its header was not copied (CPython's default chunk).
const DEFAULT_CHUNK: u64 = 16 * 1024;

/// Addresses are already well mixed; a multiply is all the hashing they need.
#[derive(Default)]
pub struct AddrHasher(u64);
impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    }
    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64)
    }
}
type Fast = BuildHasherDefault<AddrHasher>;

struct CodeMeta {
    file: Arc<str>,
    qualname: Arc<str>,
    first_line: u32,
    lines: Lines,
    /// 3.11+: the size of its frames in the stack chunk, in words.
    frame_words: u32,
    /// The code object's file, name and line-table pointers and first line as read: another
    /// code object later allocated at the same address differs in them.
    fingerprint: [u64; 4],
    /// The interpreter's own trampoline code (3.12+ C-stack entry frames run it).
    shim: bool,
    /// 3.11+: a generator's, coroutine's or async generator's code.
    generator: bool,
}

/// The fields that tell a code object from another later allocated at its address (file,
/// name and line-table pointers, first line), and the span of the object that holds them.
fn fingerprint_span(l: &Layout) -> (usize, usize) {
    let fields = [l.code_filename, l.code_qualname.unwrap_or(l.code_name), l.code_firstlineno, l.code_linetable];
    (*fields.iter().min().unwrap(), fields.iter().max().unwrap() + 8)
}

/// `CodeMeta::fingerprint` from a code object's bytes starting at its offset `from`.
fn fingerprint(l: &Layout, b: &[u8], from: usize) -> [u64; 4] {
    let name = l.code_qualname.unwrap_or(l.code_name);
    [b.u64_at(l.code_filename - from), b.u64_at(name - from), b.i32_at(l.code_firstlineno - from) as u64, b.u64_at(l.code_linetable - from)]
}

/// Whether two copies of a 3.11+ frame are the same frame: code (or, `popped`, a cleared
/// one), caller link and owner.
fn same_frame(fl: &InterpFrame, a: &[u8], b: &[u8], popped: bool) -> bool {
    let same = |off: usize, len: usize| a[off..off + len] == b[off..off + len];
    (same(fl.code, 8) || popped) && same(fl.previous, 8) && same(fl.owner, 1)
}

/// 3.15: whether `frame` is the thread state's base frame, where every stack ends.
fn is_base_frame(l: &Layout, tstate: u64, frame: u64) -> bool {
    l.tstate_base_frame.is_some_and(|o| frame == tstate + o as u64)
}

/// Whether a copied 3.11+ frame says it is running (3.11–3.13: or inside a C call) or, on
/// 3.14+, not popped (see `Liveness`).
fn running(fl: &InterpFrame, fb: &[u8]) -> bool {
    match fl.live {
        Liveness::StackTop(o) => fb.i32_at(o) == -1,
        Liveness::Executable => fb.u64_at(fl.code) & fl.code_mask != 0,
    }
}

/// Whether a copied 3.11+ frame marks a C call below it: 3.11's entry flag (a frame the eval
/// loop was entered with from C), or 3.12+'s C-stack entry frame.
/// `owner`: the frame's owner as the walk took it (see `Walker::entry_caller`).
fn entered_from_c(fl: &InterpFrame, fb: &[u8], owner: u8) -> bool {
    match fl.entry_flag {
        Some(e) => fb.u8_at(e) != 0,
        None => owner >= fl.first_non_python_owner,
    }
}

/// 3.11+: a stack's frames outside its chunk, by when they are read. A generator's frame is
/// unlinked from its caller at every yield, and a finished generator's memory soon holds
/// another: read only after the chunk, it was unlinked under callees the copy still showed
/// (stacks cut short), and read only before, another generator's frame met the callees of
/// the next phase (stacks mixed). So it is read both just before the chunk and just after,
/// and kept only where both agree. Other frames (C-stack entry frames, frames in an older
/// chunk) keep their bytes once popped, so they are read just after.
///
/// A stack deeper than its chunk goes on in older chunks: their used parts (`chunks`, address
/// and length) are read whole after the chunk, like other frames that stay put; frame by frame,
/// a recursion 900 deep took ~800 reads.
#[derive(Default)]
struct Outside {
    before: Vec<u64>,
    after: Vec<u64>,
    chunks: Vec<(u64, usize)>,
}

impl Outside {
    fn clear(&mut self) {
        self.before.clear();
        self.after.clear();
        self.chunks.clear();
    }

    /// Becomes a copy of `other`, keeping its own allocations.
    fn copy_from(&mut self, other: &Outside) {
        self.before.clone_from(&other.before);
        self.after.clone_from(&other.after);
        self.chunks.clone_from(&other.chunks);
    }

    fn contains(&self, frame: u64) -> bool {
        self.before.contains(&frame) || self.after.contains(&frame)
    }

    fn push(&mut self, frame: u64, owner: u8) {
        let list = if owner == GENERATOR_OWNER { &mut self.before } else { &mut self.after };
        if list.len() < MAX_OUTSIDE {
            list.push(frame);
        }
    }
}

/// One read of a thread's 3.11+ stack: the chunk's used part, and frames outside it.
struct Copy<'a> {
    chunk: u64,
    bytes: &'a [u8],
    /// The chunk copied again right after.
    second: &'a [u8],
    outside: &'a Outside,
    /// The bytes of `outside.before` (read before the chunk), of `outside.chunks` and
    /// `outside.after`, then `outside.before` again.
    before_bytes: &'a [u8],
    chunks_bytes: &'a [u8],
    after_bytes: &'a [u8],
    again_bytes: &'a [u8],
    size: usize,
}

impl Copy<'_> {
    /// A frame's header as copied, from the chunk or from the frames read outside it.
    fn frame(&self, addr: u64) -> Option<&[u8]> {
        if self.in_chunk(addr) {
            let o = (addr - self.chunk) as usize;
            return Some(&self.bytes[o..o + self.size]);
        }
        if let Some(at) = self.read_before(addr) {
            return self.before_bytes.get(at..at + self.size);
        }
        if let Some((_, at)) = self.older_chunk(addr) {
            return self.chunks_bytes.get(at..at + self.size);
        }
        let i = self.outside.after.iter().position(|&f| f == addr)?;
        self.after_bytes.get(i * self.size..(i + 1) * self.size)
    }

    /// Whether `addr` was read before the chunk and again after it, the same frame both times
    /// (code, caller link, owner).
    fn read_around(&self, addr: u64, fl: &InterpFrame) -> bool {
        let Some(at) = self.read_before(addr) else { return false };
        same_frame(fl, &self.before_bytes[at..at + self.size], &self.again_bytes[at..at + self.size], false)
    }

    /// Where the bytes of a frame read before the chunk start in `before_bytes` (and in
    /// `again_bytes`).
    fn read_before(&self, addr: u64) -> Option<usize> {
        let i = self.outside.before.iter().position(|&f| f == addr)?;
        Some(i * self.size)
    }

    /// Whether a frame in the chunk is the same frame in the second copy: same code, caller
    /// link and owner. Where it is, it stayed that frame from its first copy to its second
    /// (3.14+: or was popped, which clears the executable, and not replaced).
    fn same_in_second(&self, addr: u64, fl: &InterpFrame) -> bool {
        let o = (addr - self.chunk) as usize;
        same_frame(fl, &self.bytes[o..o + self.size], &self.second[o..o + self.size], self.popped_in_second(addr, fl))
    }

    /// 3.14+: whether a frame in the chunk shows popped in the second copy (its executable
    /// cleared).
    fn popped_in_second(&self, addr: u64, fl: &InterpFrame) -> bool {
        let o = (addr - self.chunk) as usize;
        matches!(fl.live, Liveness::Executable) && !running(fl, &self.second[o..o + self.size])
    }

    /// The older chunk read that holds a frame at `addr`, and where the frame sits in
    /// `chunks_bytes`.
    fn older_chunk(&self, addr: u64) -> Option<((u64, usize), usize)> {
        let mut at = 0;
        for &(c, len) in &self.outside.chunks {
            if addr >= c && addr - c + self.size as u64 <= len as u64 {
                return Some(((c, len), at + (addr - c) as usize));
            }
            at += len;
        }
        None
    }

    fn in_chunk(&self, addr: u64) -> bool {
        // Addresses come from the target and may be anything: no overflow past u64::MAX.
        addr >= self.chunk && addr - self.chunk + self.size as u64 <= self.bytes.len() as u64
    }

    /// Inside the chunk, copied or not.
    fn in_chunk_range(&self, addr: u64) -> bool {
        addr >= self.chunk && addr - self.chunk < self.chunk_size()
    }

    /// `_PyStackChunk.size`, from the copied header.
    fn chunk_size(&self) -> u64 {
        match self.bytes.u64_at(8) {
            s if (24..=1 << 30).contains(&s) => s,
            _ => DEFAULT_CHUNK,
        }
    }
}

/// The bytes of a frame not copied: nothing in them is trusted.
const UNREAD: [u8; 128] = [0; 128];

/// What `Walker::entry_caller` makes of a frame outside the chunk.
#[derive(Debug, PartialEq)]
enum Entry {
    /// Not a C-stack entry frame (or 3.11, which has none).
    Not,
    /// An entry frame, linking to this frame.
    Caller(u64),
    /// An entry frame whose link cannot be trusted.
    Unplaced,
}

/// Where `live_top` found the running frame.
enum Top {
    Frame(u64),
    /// No frame showed running (3.11–3.13): the frame that was current, taken on the word of
    /// the two chunk copies alone.
    Unconfirmed(u64),
    /// The stack may go on past the copy, up to here.
    Beyond(u64),
    Torn,
}

struct ThreadSlot {
    tid: u32,
    /// `PyThreadState.thread_id`, the key of `threading._active`.
    ident: u64,
    name: String,
    /// Whether `name` came from the Python Thread object (else the OS or a default).
    python_name: bool,
    born: Instant,
    stat: Option<ThreadStat>,
    /// Guesses from the last samples. 3.11/3.12: the C-level frames (`_PyCFrame`) recently
    /// current, with how many samples ago each last was: a generator resumed from C runs in
    /// an eval loop of its own, so the current one alternates between a few.
    cframes: Vec<(u64, u8)>,
    chunk: u64,
    chunk_len: usize,
    /// The chunk's size (from the thread state's limit): a read past it may meet no memory.
    chunk_size: usize,
    /// The last read missed the thread's chunk (it moved to another, or grew past what was
    /// read): the next one first asks the thread state where it is.
    fresh: bool,
    /// The chunk whose older chunks `outside.chunks` lists.
    older_for: u64,
    window_max: usize,
    last_window_max: usize,
    window_n: u32,
    chain: Vec<u64>,
    /// 3.11+: last sample's frames outside the chunk.
    outside: Outside,
    /// 3.12+: C-stack entry frames seen whole, with the frame each linked to (`entry_caller`).
    entries: Vec<(u64, u64)>,
    /// ≤3.10: the thread's bottom frame object, and how often a walk ended elsewhere.
    root: u64,
    root_misses: u32,
    last_pass: u64,
    /// The code objects of its last sample, checked first for reuse (`check_codes`).
    last_codes: Vec<u64>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SampleOptions {
    pub idle: bool,
    pub gil_only: bool,
    /// Stop the process's threads for the pass (`Config::blocking`).
    pub blocking: bool,
    /// How long one thread's sample may keep retrying a torn read.
    pub retry_budget: Duration,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct PassCounts {
    pub samples: u64,
    pub torn: u64,
    pub errors: u64,
}

/// One raw frame position read from the target.
#[derive(Clone, Copy)]
struct RawFrame {
    code: u64,
    pos: i64,
}

pub struct ProcessWalker {
    pub interp: Interpreter,
    layout: &'static Layout,
    mem: Remote,
    interp_addr: u64,
    codes: HashMap<u64, Arc<CodeMeta>, Fast>,
    /// The cached code addresses in the order they came, which `check_codes` rotates through.
    code_order: Vec<u64>,
    /// When the cached code objects were last checked, and where the rotation stands.
    codes_checked: Instant,
    codes_cursor: usize,
    frame_ids: HashMap<(u64, i64), FrameId, Fast>,
    threads: HashMap<u64, ThreadSlot, Fast>,
    pass: u64,
    buf: Vec<u8>,
    /// 3.11+: the older chunks of a stack deeper than its chunk (`read_older_chunks`).
    chunks_buf: Vec<u8>,
    regions: Vec<(u64, usize)>,
    raw: Vec<RawFrame>,
    pthread_tid_offset: Option<usize>,
    /// 3.11+: the current thread's guessed frames outside the chunk (reused buffer).
    guesses: Outside,
    names: ThreadNames,
    names_read: Option<Instant>,
    /// The head/GIL prefix of the next 3.11+ read: on, and what it brought back.
    last_head: u64,
    prefix_on: bool,
    /// Whether the last read brought the head/GIL prefix back, and what it said.
    head_read: bool,
    head_seen: (u64, u64),
    /// While a blocking pass holds the process stopped.
    frozen: Option<Frozen>,
    /// `--blocking`: the threads' /proc stat files, kept open between passes.
    frozen_stats: HashMap<u32, ThreadStat>,
    /// The main thread's /proc stat, when it was last looked at, and whether it was stopped.
    leader: Option<ThreadStat>,
    stopped_checked: Option<Instant>,
    stopped: bool,
}

/// Where the interpreter's thread-list head and GIL word are read from: one region when they
/// sit within a page of each other (3.12+: both in the interpreter state), else two. Each
/// region costs the system call ~0.35 µs of page pinning; copying the bytes between is cheaper.
struct HeadPlan {
    regions: [(u64, usize); 2],
    n: usize,
    /// Offsets of the head pointer and of the GIL fields in the bytes read.
    head_at: usize,
    gil_at: usize,
}

impl HeadPlan {
    fn regions(&self) -> &[(u64, usize)] {
        &self.regions[..self.n]
    }
    fn len(&self) -> usize {
        self.regions().iter().map(|r| r.1).sum()
    }
}

/// A thread's name when Python's is unknown: the OS name where the program set one (3.14+
/// names threads after Python's names, cut to 15 bytes), "MainThread" for the main thread,
/// else empty.
fn os_thread_name(pid: u32, tid: u32) -> String {
    if tid == pid {
        return "MainThread".into();
    }
    let comm = process::thread_name(pid, tid).unwrap_or_default();
    let main = process::thread_name(pid, pid).unwrap_or_default();
    if comm == main { String::new() } else { comm }
}

impl ProcessWalker {
    pub fn new(interp: Interpreter) -> Result<ProcessWalker, Error> {
        let mem = Remote::new(interp.pid);
        let layout = interp.layout;
        let leader = ThreadStat::open(interp.pid, interp.pid);
        // Not mapped yet: the loader is still placing the segment; `ready` reads it again.
        let interp_addr = match mem.read_u64(interp.runtime + layout.runtime_interpreters_head as u64) {
            Err(Error::NotMapped { .. }) => 0,
            r => r?,
        };
        Ok(ProcessWalker {
            interp,
            layout,
            mem,
            interp_addr,
            codes: HashMap::default(),
            code_order: Vec::new(),
            codes_checked: Instant::now(),
            codes_cursor: 0,
            frame_ids: HashMap::default(),
            threads: HashMap::default(),
            pass: 0,
            buf: Vec::with_capacity(32 * 1024),
            chunks_buf: Vec::new(),
            regions: Vec::with_capacity(64),
            raw: Vec::with_capacity(256),
            pthread_tid_offset: None,
            guesses: Outside::default(),
            names: ThreadNames::default(),
            names_read: None,
            last_head: 0,
            prefix_on: false,
            head_read: false,
            head_seen: (0, 0),
            frozen: None,
            frozen_stats: HashMap::new(),
            leader,
            stopped_checked: None,
            stopped: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.interp.pid
    }

    /// Whether the process is stopped (a group stop stops every thread; so does a debugger),
    /// re-checked every STOPPED_CHECK_EVERY. Nothing runs there: its threads count as idle.
    fn is_stopped(&mut self) -> bool {
        if self.stopped_checked.is_none_or(|t| t.elapsed() >= STOPPED_CHECK_EVERY) {
            self.stopped_checked = Some(Instant::now());
            self.stopped = self.leader.as_mut().and_then(|s| s.state()).is_some_and(|c| c == b'T' || c == b't');
        }
        self.stopped
    }

    /// True once the interpreter has a thread state (the runtime is initialised). Until then
    /// the interpreter's address is read afresh each time: one read during start-up (a
    /// half-built runtime) must not be kept for the whole session.
    pub fn ready(&mut self) -> bool {
        match self.mem.read_u64(self.interp.runtime + self.layout.runtime_interpreters_head as u64) {
            Ok(a) => self.interp_addr = a,
            Err(_) => return false,
        }
        self.interp_addr != 0
            && self.mem.read_u64(self.interp_addr + self.layout.interp_threads_head as u64).is_ok_and(|h| h != 0)
    }

    /// Reads every thread once, appending kept samples to `out`. `now` gives each sample's
    /// timestamp. Errors only when the process itself is gone or unreadable.
    pub fn sample_all(
        &mut self,
        table: &FrameTable,
        now: &dyn Fn() -> u64,
        opts: SampleOptions,
        out: &mut Batch,
        new_threads: &mut Vec<ThreadInfo>,
    ) -> Result<PassCounts, Error> {
        self.pass += 1;
        let mut counts = PassCounts::default();
        if self.interp_addr == 0 && !self.ready() {
            return Ok(counts);
        }
        // A stopped process runs nothing: no samples, or with --idle, samples that say so.
        if self.is_stopped() && !opts.idle {
            return Ok(counts);
        }
        self.refresh_names(new_threads);
        if self.codes_checked.elapsed() >= CODES_CHECK_EVERY {
            self.codes_checked = Instant::now();
            self.check_codes();
        }
        self.frozen = match opts.blocking.then(|| Frozen::new(self.interp.pid, &mut self.frozen_stats)) {
            None => None,
            Some(Ok(f)) => Some(f),
            // Could not stop it this pass (a debugger attached meanwhile?): counted, not sampled.
            Some(Err(_)) if process::exists(self.interp.pid) => {
                counts.errors += 1;
                return Ok(counts);
            }
            Some(Err(e)) => return Err(e),
        };
        let result = self.sample_threads(table, now, opts, out, new_threads, counts);
        // Detach before anything else: the target waits while we hold it.
        self.frozen = None;
        result
    }

    fn sample_threads(
        &mut self,
        table: &FrameTable,
        now: &dyn Fn() -> u64,
        opts: SampleOptions,
        out: &mut Batch,
        new_threads: &mut Vec<ThreadInfo>,
        mut counts: PassCounts,
    ) -> Result<PassCounts, Error> {
        // 3.11+: the interpreter's thread-list head and GIL word ride along in the first
        // thread's read (last pass's head as the guess), saving a system call per pass.
        let guess = self.last_head;
        let (mut tstate, mut holder, mut n) = (0, 0, 0);
        if guess != 0 && matches!(self.layout.frames, Frames::Interp(_)) {
            let (s_len, f_len, saved) = (out.samples.len(), out.frames.len(), counts);
            self.head_read = false;
            match self.sample_thread(guess, None, table, now, opts, out, new_threads, &mut counts) {
                Ok(next) if self.head_read && self.head_seen.0 == guess => {
                    (tstate, holder, n) = (next, self.head_seen.1, 1);
                }
                Ok(_) => {
                    // The list changed (a new thread is first now): drop this read, start over.
                    out.samples.truncate(s_len);
                    out.frames.truncate(f_len);
                    counts = saved;
                    n = 0;
                }
                Err(e) if !process::exists(self.interp.pid) => return Err(e),
                Err(_) => {}
            }
        }
        if n == 0 {
            let (head, h) = self.read_head()?;
            (tstate, holder) = (head, h);
            self.last_head = head;
        }
        while tstate != 0 && n < MAX_THREADS {
            n += 1;
            match self.sample_thread(tstate, Some(holder), table, now, opts, out, new_threads, &mut counts) {
                Ok(next) => tstate = next,
                Err(e) => {
                    if !process::exists(self.interp.pid) {
                        return Err(e);
                    }
                    // One thread's failed read (it is exiting, a guess pointed at freed memory)
                    // must not hide the threads after it in the list.
                    counts.errors += 1;
                    match self.mem.read_u64(tstate + self.layout.tstate_next as u64) {
                        Ok(next) => tstate = next,
                        Err(_) => break,
                    }
                }
            }
        }
        let pass = self.pass;
        self.threads.retain(|_, t| pass - t.last_pass < 50);
        if self.frame_ids.len() > 1 << 20 {
            self.frame_ids.clear();
        }
        Ok(counts)
    }

    /// The first thread state and the GIL holder's thread state (0 if none).
    fn read_head(&mut self) -> Result<(u64, u64), Error> {
        let plan = self.head_plan();
        self.regions.clear();
        self.regions.extend_from_slice(plan.regions());
        if !self.mem.read_many(&self.regions, &mut self.buf)? {
            return Err(Error::Other(format!("PID {}: interpreter state unreadable", self.interp.pid)));
        }
        Ok(self.parse_head(&plan, &self.buf[..plan.len()]))
    }

    fn head_plan(&self) -> HeadPlan {
        let l = self.layout;
        let head = self.interp_addr + l.interp_threads_head as u64;
        let gil = match l.gil {
            Gil::RuntimeTstateCurrent(off) => (self.interp.runtime + off as u64, 8),
            Gil::InterpGil { last_holder, .. } => (self.interp_addr + last_holder as u64, 16),
        };
        let (lo, hi) = (head.min(gil.0), (head + 8).max(gil.0 + gil.1 as u64));
        if hi - lo <= 4096 {
            let at = |a: u64| (a - lo) as usize;
            HeadPlan { regions: [(lo, (hi - lo) as usize), (0, 0)], n: 1, head_at: at(head), gil_at: at(gil.0) }
        } else {
            HeadPlan { regions: [(head, 8), gil], n: 2, head_at: 0, gil_at: 8 }
        }
    }

    /// (first thread state, GIL holder's thread state or 0) from the bytes a HeadPlan read.
    fn parse_head(&self, plan: &HeadPlan, b: &[u8]) -> (u64, u64) {
        let g = plan.gil_at;
        let holder = match self.layout.gil {
            Gil::RuntimeTstateCurrent(_) => b.u64_at(g),
            Gil::InterpGil { last_holder, locked } => {
                if b.u32_at(g + (locked - last_holder)) != 0 { b.u64_at(g) } else { 0 }
            }
        };
        (b.u64_at(plan.head_at), holder)
    }

    #[allow(clippy::too_many_arguments)]
    fn sample_thread(
        &mut self,
        tstate: u64,
        gil_holder: Option<u64>,
        table: &FrameTable,
        now: &dyn Fn() -> u64,
        opts: SampleOptions,
        out: &mut Batch,
        new_threads: &mut Vec<ThreadInfo>,
        counts: &mut PassCounts,
    ) -> Result<u64, Error> {
        let l = self.layout;
        // A thread state exists before its OS thread has stored its id: the id is 0, or on
        // ≤3.10 its parent's, which another thread state already holds. Such a thread is
        // looked up again on the next pass and not sampled until its own id is known.
        if self.threads.get(&tstate).is_none_or(|s| s.tid == 0) {
            let slot = self.new_slot(tstate)?;
            if slot.tid == 0 || self.threads.iter().any(|(&t, s)| t != tstate && s.tid == slot.tid) {
                self.threads.remove(&tstate);
                return self.mem.read_u64(tstate + l.tstate_next as u64);
            }
            new_threads.push(ThreadInfo { pid: self.interp.pid, tid: slot.tid, name: slot.name.clone() });
            self.threads.insert(tstate, slot);
        }
        let pass = self.pass;
        let slot = self.threads.get_mut(&tstate).unwrap();
        slot.last_pass = pass;
        let tid = slot.tid;
        let time_ns = now();
        // Whether to keep this thread's sample; with no holder given, the read brings the
        // GIL word along and the decision waits until after it.
        let mut decided = None;
        if let Some(holder) = gil_holder {
            let (gil, running) = self.status(tstate, holder);
            let keep = (opts.idle || running) && (!opts.gil_only || gil);
            if !keep {
                // Still need `next`: one small read.
                return self.mem.read_u64(tstate + l.tstate_next as u64);
            }
            decided = Some((gil, running));
        }
        self.prefix_on = gil_holder.is_none();
        let mut next = 0;
        let mut ok = false;
        let started = Instant::now();
        let mut min_attempts = if self.frozen.is_some() { MIN_ATTEMPTS_STOPPED } else { MIN_ATTEMPTS };
        for attempt in 0..RETRIES {
            if attempt >= min_attempts && started.elapsed() > opts.retry_budget {
                break;
            }
            self.raw.clear();
            match self.read_stack(tstate, &mut next) {
                Ok(true) => {
                    ok = true;
                    break;
                }
                Ok(false) => {
                    // Stopped, a read still failing after its lessons (a chunk, a C-level
                    // frame) is of a thread caught where its memory does not describe it:
                    // move it on a few instructions (Frozen::nudge). Where it stops then may
                    // have lessons of its own.
                    if attempt + 2 >= min_attempts {
                        if let Some(f) = self.frozen.as_mut() {
                            f.nudge(tid);
                            min_attempts = attempt + 1 + MIN_ATTEMPTS_STOPPED;
                        }
                    }
                }
                Err(e) => {
                    self.prefix_on = false;
                    return Err(e);
                }
            }
        }
        self.prefix_on = false;
        let (gil, running) = match decided {
            Some(d) => d,
            None => {
                if !self.head_read {
                    return Ok(next); // the caller falls back to a separate head read
                }
                let (gil, running) = self.status(tstate, self.head_seen.1);
                if !((opts.idle || running) && (!opts.gil_only || gil)) {
                    return Ok(next);
                }
                (gil, running)
            }
        };
        if !ok {
            counts.torn += 1;
            if next == 0 {
                next = self.mem.read_u64(tstate + l.tstate_next as u64)?;
            }
            return Ok(next);
        }
        if self.raw.is_empty() {
            return Ok(next);
        }
        // Resolve to frame ids, root first.
        let start = out.frames.len();
        for i in (0..self.raw.len()).rev() {
            let RawFrame { code, pos } = self.raw[i];
            match self.frame_id(table, code, pos) {
                Some(id) => out.frames.push(id),
                None => {
                    out.frames.truncate(start);
                    counts.torn += 1;
                    return Ok(next);
                }
            }
        }
        let flags = if running { FLAG_RUNNING } else { 0 } | if gil { FLAG_GIL } else { 0 };
        if let Some(slot) = self.threads.get_mut(&tstate) {
            slot.last_codes.clear();
            slot.last_codes.extend(self.raw.iter().map(|r| r.code));
        }
        out.samples.push(Sample { time_ns, pid: self.interp.pid, tid, flags, start: start as u32, len: (out.frames.len() - start) as u32 });
        counts.samples += 1;
        Ok(next)
    }

    /// (holds the GIL, running). A thread holding the GIL is executing bytecode (blocking
    /// calls release the GIL), so it counts as running without asking the kernel; that saves
    /// a /proc read per sample.
    fn status(&mut self, tstate: u64, holder: u64) -> (bool, bool) {
        let gil = holder == tstate;
        if self.stopped {
            return (gil, false);
        }
        let slot = self.threads.get_mut(&tstate).unwrap();
        if let Some(f) = &self.frozen {
            return (gil, gil || f.running.get(&slot.tid).copied().unwrap_or(true));
        }
        let running = gil
            || match slot.stat.as_mut().map(|s| s.running()) {
                Some(Some(r)) => r,
                Some(None) => {
                    slot.stat = None; // thread gone; its tstate leaves the list soon
                    false
                }
                None => true,
            };
        (gil, running)
    }

    fn new_slot(&mut self, tstate: u64) -> Result<ThreadSlot, Error> {
        let l = self.layout;
        let mut b = vec![0u8; l.tstate_read];
        self.mem.read(tstate, &mut b)?;
        let ident = b.u64_at(l.tstate_thread_id);
        let tid = match l.tstate_native_thread_id {
            Some(off) => b.u64_at(off) as u32,
            None => self.tid_from_pthread(ident),
        };
        let python = self.names.get(ident);
        Ok(ThreadSlot {
            tid,
            ident,
            python_name: python.is_some(),
            name: python.map_or_else(|| os_thread_name(self.interp.pid, tid), str::to_string),
            born: Instant::now(),
            stat: ThreadStat::open(self.interp.pid, tid),
            cframes: Vec::new(),
            chunk: 0,
            chunk_len: 0,
            chunk_size: DEFAULT_CHUNK as usize,
            fresh: false,
            older_for: 0,
            window_max: 0,
            last_window_max: 0,
            window_n: 0,
            chain: Vec::new(),
            outside: Outside::default(),
            entries: Vec::new(),
            root: 0,
            root_misses: 0,
            last_pass: self.pass,
            last_codes: Vec::new(),
        })
    }

    /// Reads Python thread names right away the first time, then on NAMES_EVERY or
    /// NAMES_RETRY, and reports threads whose name changed.
    fn refresh_names(&mut self, changed: &mut Vec<ThreadInfo>) {
        let due = self.names_read.is_none_or(|t| {
            let d = t.elapsed();
            d >= NAMES_EVERY
                || (d >= NAMES_RETRY && self.threads.values().any(|s| !s.python_name && s.born.elapsed() < NAME_WAIT))
        });
        if !due {
            return;
        }
        self.names_read = Some(Instant::now());
        if !self.names.refresh(&Objects::new(&self.mem, self.layout), self.interp_addr) {
            return;
        }
        for slot in self.threads.values_mut() {
            if let Some(name) = self.names.get(slot.ident) {
                slot.python_name = true;
                if name != slot.name {
                    slot.name = name.to_string();
                    changed.push(ThreadInfo { pid: self.interp.pid, tid: slot.tid, name: slot.name.clone() });
                }
            }
        }
    }

    /// ≤3.10 only stores pthread_t; the kernel TID sits inside glibc's struct pthread.
    fn tid_from_pthread(&mut self, pthread: u64) -> u32 {
        let tids = process::threads(self.interp.pid);
        let mut b = vec![0u8; 2048];
        if pthread == 0 || self.mem.read(pthread, &mut b).is_err() {
            return 0;
        }
        let is_tid = |off: usize| {
            let v = b.u32_at(off);
            v != 0 && tids.contains(&v)
        };
        if let Some(off) = self.pthread_tid_offset {
            // The offset is a property of the target's glibc: once validated it stays. A new
            // thread whose id is not listed yet gets 0 and is looked up again next pass.
            return if is_tid(off) { b.u32_at(off) } else { 0 };
        }
        // glibc 2.36 x86_64 keeps it at +720; scan if this glibc differs. Only a value that is
        // one of the process's threads, found for the first thread, fixes the offset.
        let off = std::iter::once(720).chain((0..2048).step_by(4)).find(|&o| is_tid(o));
        self.pthread_tid_offset = off;
        off.map_or(0, |o| b.u32_at(o))
    }

    /// Reads one thread's stack into `self.raw` (leaf first). Ok(false) = torn, retry.
    fn read_stack(&mut self, tstate: u64, next: &mut u64) -> Result<bool, Error> {
        match self.layout.frames {
            Frames::Interp(_) => self.read_interp_stack(tstate, next),
            Frames::Objects(_) => self.read_object_stack(tstate, next),
        }
    }

    /// 3.11+: one call reads the thread state (and the current frame via the C frame on
    /// 3.11/3.12), then the used part of the stack chunk twice, then last sample's frames
    /// outside the chunk. The current frame, read a few hundred nanoseconds before the first
    /// copy, is only where to look: `live_top` finds the frame running at the moment of the
    /// copy, and the second copy must agree on every frame kept (docs/architecture.md, "How a
    /// stack is read without pausing the target").
    ///
    /// (An earlier design copied the chunk once before the thread state and once after. The
    /// target pushes a frame every ~60 ns, so nearly every sample taken while the stack grew
    /// disagreed and was dropped: a leaf that took a third of the time showed under 1%.)
    fn read_interp_stack(&mut self, tstate: u64, next: &mut u64) -> Result<bool, Error> {
        let l = self.layout;
        let Frames::Interp(fl) = l.frames else { unreachable!() };
        let frozen = self.frozen.is_some(); // `--blocking`
        let chunk_off = l.tstate_datastack_chunk.unwrap();
        if self.threads[&tstate].fresh && !frozen {
            // The last read missed the chunk, and guessing from it again would miss again
            // while the stack moves between chunks (a new one every few microseconds as a
            // recursion grows): ask the thread state, then read the chunk it names.
            self.ask_chunk(tstate, FRESH_SLACK)?;
        }
        let slot = self.threads.get_mut(&tstate).unwrap();
        let (chunk, chunk_len) = (slot.chunk, slot.chunk_len);
        let mut outside = std::mem::take(&mut self.guesses);
        outside.copy_from(&slot.outside);
        let ts_len = l.tstate_read;
        let cf_fields = match l.tstate_current_frame {
            CurrentFrame::ViaCFrame { .. } => slot.cframes.len(),
            CurrentFrame::Direct(_) => 0,
        };
        let chunk_read = if chunk != 0 { chunk_len } else { 0 };

        self.regions.clear();
        let plan = self.prefix_on.then(|| self.head_plan());
        let base = match &plan {
            Some(p) => {
                self.regions.extend_from_slice(p.regions());
                p.len()
            }
            None => 0,
        };
        self.head_read = false;
        self.regions.push((tstate, ts_len));
        if let CurrentFrame::ViaCFrame { current_frame, .. } = l.tstate_current_frame {
            let slot = &self.threads[&tstate];
            self.regions.extend(slot.cframes.iter().map(|&(cf, _)| (cf + current_frame as u64, 8)));
        }
        self.regions.extend(outside.before.iter().map(|&f| (f, fl.size)));
        if chunk_read > 0 {
            self.regions.push((chunk, chunk_read));
            self.regions.push((chunk, chunk_read));
        }
        self.regions.extend(outside.after.iter().map(|&f| (f, fl.size)));
        self.regions.extend(outside.before.iter().map(|&f| (f, fl.size)));
        let t0 = Instant::now();
        let read = self.mem.read_many_counted(&self.regions, &mut self.buf)?;
        let whole = read == self.buf.len();
        let preempted = t0.elapsed() > max_read_time(self.buf.len());
        if !whole {
            // A guess pointed at memory that is gone (a chunk freed as the stack unwound, a
            // generator's frame): forget the frames outside, and ask the thread state alone
            // where the stack is now (errors if the thread state itself is gone).
            let slot = self.threads.get_mut(&tstate).unwrap();
            slot.outside.clear();
            slot.older_for = 0;
            if read < base + ts_len + 8 * cf_fields {
                // A C-level frame guessed on a C stack that is gone (a thread that ended).
                slot.cframes.clear();
            }
            self.guesses = outside;
            self.ask_chunk(tstate, CHUNK_SLACK)?;
            self.threads.get_mut(&tstate).unwrap().fresh = true;
            return Ok(false);
        }
        // Layout of self.buf: head+gil? | ts | cframes' current frames | outside.before | chunk | chunk |
        // outside.after | outside.before again
        if let Some(p) = &plan {
            self.head_seen = self.parse_head(p, &self.buf[..base]);
            self.head_read = true;
        }
        let before_at = base + ts_len + 8 * cf_fields;
        let chunk_at = before_at + outside.before.len() * fl.size;
        let after_at = chunk_at + 2 * chunk_read;
        let again_at = after_at + outside.after.len() * fl.size;
        let ts = &self.buf[base..base + ts_len];
        *next = ts.u64_at(l.tstate_next);
        let real_chunk = ts.u64_at(chunk_off);
        let top = ts.u64_at(chunk_off + 8);
        let limit = ts.u64_at(chunk_off + 16);
        let current = match l.tstate_current_frame {
            CurrentFrame::Direct(o) => ts.u64_at(o),
            CurrentFrame::ViaCFrame { cframe, current_frame } => {
                let cf = ts.u64_at(cframe);
                let slot = self.threads.get_mut(&tstate).unwrap();
                match slot.cframes.iter().position(|c| c.0 == cf) {
                    Some(i) => {
                        for (j, c) in slot.cframes.iter_mut().enumerate() {
                            c.1 = if j == i { 0 } else { c.1.saturating_add(1) };
                        }
                        slot.cframes.retain(|c| c.1 < CFRAME_FORGET);
                        self.buf.u64_at(base + ts_len + 8 * i)
                    }
                    None => {
                        // A C-level frame not guessed (or first sample): remember it, so the
                        // next read brings its current frame along.
                        if cf == 0 {
                            return Ok(true);
                        }
                        slot.cframes.insert(0, (cf, 0));
                        slot.cframes.truncate(CFRAME_GUESSES);
                        if !frozen {
                            return Ok(false);
                        }
                        // A stopped target still has that frame current: read it now.
                        self.mem.read_u64(cf + current_frame as u64)?
                    }
                }
            }
        };
        let used = top.saturating_sub(real_chunk) as usize;
        {
            let slot = self.threads.get_mut(&tstate).unwrap();
            // Read as much as the deepest stack of the last two windows of samples used: deep
            // enough not to miss, shallow enough not to copy a depth left behind long ago.
            slot.window_max = slot.window_max.max(used);
            slot.window_n += 1;
            if slot.window_n >= 256 {
                slot.chunk_len = slot.chunk_len.min(slot.window_max.max(slot.last_window_max) + CHUNK_SLACK).min(slot.chunk_size);
                slot.last_window_max = slot.window_max;
                slot.window_max = 0;
                slot.window_n = 0;
            }
        }
        let slot = self.threads.get_mut(&tstate).unwrap();
        slot.fresh = false;
        if real_chunk != chunk || used > chunk_read {
            self.place_chunk(tstate, real_chunk, used, limit.saturating_sub(real_chunk) as usize, CHUNK_SLACK);
            if real_chunk != 0 && used > 0 {
                self.threads.get_mut(&tstate).unwrap().fresh = true;
                self.guesses = outside;
                return Ok(false);
            }
        }
        if current == 0 {
            return Ok(true);
        }
        if preempted && !frozen {
            return Ok(false); // a stopped target cannot move while we are held up
        }
        if chunk_read >= 8 && self.learn_older_chunks(tstate, chunk, self.buf.u64_at(chunk_at)) {
            // Known once the chunk is: they stay put while it is in use.
            outside.chunks.clone_from(&self.threads[&tstate].outside.chunks);
        }
        if !outside.chunks.is_empty() && !self.read_older_chunks(tstate, &outside, chunk, chunk_at, t0)? {
            self.guesses = outside;
            return Ok(false);
        }
        let buf = std::mem::take(&mut self.buf);
        let chunks_buf = std::mem::take(&mut self.chunks_buf);
        let copy = Copy {
            chunk,
            bytes: &buf[chunk_at..chunk_at + chunk_read],
            second: &buf[chunk_at + chunk_read..chunk_at + 2 * chunk_read],
            outside: &outside,
            before_bytes: &buf[before_at..chunk_at],
            chunks_bytes: &chunks_buf,
            after_bytes: &buf[after_at..again_at],
            again_bytes: &buf[again_at..],
            size: fl.size,
        };
        // The frames found outside the chunk go in the thread's list, reusing its allocation;
        // a walk that fails keeps last sample's, unless it failed to read new ones in place.
        let mut found = std::mem::take(&mut self.threads.get_mut(&tstate).unwrap().outside);
        found.clear();
        let mut learned = false;
        let walked = self.walk_interp(&copy, current, top, tstate, &mut found, &mut learned);
        let slot = self.threads.get_mut(&tstate).unwrap();
        if !matches!(walked, Ok(true)) && !learned {
            found.copy_from(&outside);
        }
        slot.outside = found;
        self.buf = buf;
        self.chunks_buf = chunks_buf;
        self.guesses = outside;
        walked
    }

    /// Finds the frame running at the moment of the copy and walks its callers, leaf first,
    /// into `self.raw`. Frames outside the chunk (generators', coroutines', 3.12+'s C-stack
    /// entry frames, older chunks) come from the same read when last sample had them there too;
    /// `learned` says the walk met one it must read with the chunk (a generator's frame, an
    /// older chunk) and gave up for the retry, which will.
    fn walk_interp(&mut self, copy: &Copy, current: u64, stack_top: u64, tstate: u64, outside: &mut Outside, learned: &mut bool) -> Result<bool, Error> {
        let l = self.layout;
        let Frames::Interp(fl) = l.frames else { unreachable!() };
        // A stopped target (`--blocking`) changes nothing between the reads: the frame that was
        // current is the top, and no frame can have been copied at another moment.
        let frozen = self.frozen.is_some();
        let (mut unconfirmed, mut through_c) = (false, false);
        let top = if frozen { Top::Frame(current) } else { self.live_top(copy, tstate, current) };
        let mut frame = match top {
            Top::Frame(f) => f,
            Top::Unconfirmed(f) => {
                unconfirmed = true;
                f
            }
            Top::Torn => return Ok(false),
            Top::Beyond(end) => {
                // The stack runs past what we copied: copy more next time.
                let slot = self.threads.get_mut(&tstate).unwrap();
                slot.chunk_len = slot.chunk_len.max((end - copy.chunk) as usize + CHUNK_SLACK);
                return Ok(false);
            }
        };
        let mut extra = [0u8; 128];
        let mut extra_reads = 0;
        let (mut prev_in_chunk, mut prev_in_older) = (u64::MAX, (0, 0));
        let mut depth = 0;
        let (mut callee_entered, mut callee) = (false, None);
        let mut root_is_generator = false;
        while frame != 0 {
            depth += 1;
            if depth > MAX_DEPTH || frame & 7 != 0 {
                return Ok(false);
            }
            let fb: &[u8] = match copy.frame(frame) {
                Some(fb) if copy.in_chunk(frame) => {
                    // Frames in one chunk sit below their callees.
                    if frame >= prev_in_chunk || !copy.same_in_second(frame, &fl) {
                        return Ok(false);
                    }
                    prev_in_chunk = frame;
                    fb
                }
                Some(fb) if let Some((c, _)) = copy.older_chunk(frame) => {
                    // Older chunks hold the callers of the current one's frames: they stay put
                    // while it is in use, and in each, frames sit below their callees too.
                    if prev_in_older.0 == c.0 && frame >= prev_in_older.1 {
                        return Ok(false);
                    }
                    prev_in_older = (c.0, frame);
                    if !outside.chunks.contains(&c) {
                        outside.chunks.push(c);
                    }
                    fb
                }
                // A frame outside the chunk met twice: links read at different moments (or
                // freed memory) made a cycle.
                _ if outside.contains(frame) => return Ok(false),
                Some(fb) => {
                    outside.push(frame, fb.u8_at(fl.owner));
                    fb
                }
                None => {
                    if copy.in_chunk_range(frame) {
                        return Ok(false); // in the chunk but past what we copied: it grew meanwhile
                    }
                    if let Some(chunks) = self.older_chunks_to(copy, frame) {
                        // In an older chunk not read: read it (and those between) next time.
                        outside.chunks = chunks;
                        *learned = true;
                        return Ok(false);
                    }
                    // Not read with the chunk: read it now, and with the chunk next time. Each
                    // costs a system call: a longer chain is not followed (freed memory linking
                    // on and on once held a pass for 20 ms).
                    extra_reads += 1;
                    if extra_reads > MAX_EXTRA_READS {
                        return Ok(false);
                    }
                    let fb = &mut extra[..fl.size];
                    if self.mem.read(frame, fb).is_err() {
                        return Ok(false);
                    }
                    outside.push(frame, fb.u8_at(fl.owner));
                    fb
                }
            };
            let mut entry = false;
            let mut owner = fb.u8_at(fl.owner);
            let mut previous = fb.u64_at(fl.previous);
            match self.entry_caller(copy, tstate, frame, fb, callee) {
                Entry::Not
                    if owner != GENERATOR_OWNER
                        && owner < fl.first_non_python_owner
                        && !copy.in_chunk(frame)
                        && copy.older_chunk(frame).is_none()
                        && self.code_meta(fb.u64_at(fl.code) & fl.code_mask).is_some_and(|m| m.generator) =>
                {
                    // A generator function's code in a frame outside the thread's chunks
                    // that is no generator's: a generator's memory being made or freed (one
                    // showed `produce` with no caller as a thread's first frame).
                    return Ok(false);
                }
                Entry::Not => {}
                Entry::Caller(caller) => (owner, previous, entry) = (fl.first_non_python_owner, caller, true),
                Entry::Unplaced => return Ok(false),
            }
            callee = Some(frame).filter(|&f| copy.in_chunk(f));
            if owner > 4 {
                return Ok(false);
            }
            if depth == 1 && owner >= fl.first_non_python_owner && previous != 0 && !(frozen && self.entry_links_caller(copy, frame, previous, stack_top)) {
                // The top is an eval loop's C-stack entry frame: the loop is starting or
                // ending. Starting, it may have published its C-level frame before filling it
                // in (see Frozen::nudge), and what that names is stale: 3.12 kept 0.6% mixed
                // stacks of a workload calling back and forth through C. A stopped target
                // shows which; a running one has moved on by the time frames are copied, and
                // frames above its top keep their bytes, so the top read earlier is no proof.
                return Ok(false);
            }
            if owner == GENERATOR_OWNER {
                // Kept only as the same frame before and after the chunk (see `Outside`); one
                // met otherwise is read so next time. A stopped target's is kept as read.
                if !frozen && !copy.read_around(frame, &fl) {
                    *learned = true;
                    return Ok(false);
                }
                if unconfirmed {
                    // No frame showed running: the chunk copies' agreement alone, which says
                    // nothing of a frame read apart from them.
                    return Ok(false);
                }
            }
            if let Liveness::StackTop(_) = fl.live {
                // Below the top, only a frame inside a C call still holds its stack pointer
                // in a register; its callee then entered the eval loop from C. Any other
                // running frame down here was copied at another moment than the top.
                if depth > 1 && running(&fl, fb) && !callee_entered && !frozen && !entry {
                    return Ok(false);
                }
                callee_entered = entered_from_c(&fl, fb, owner);
            }
            // A C call between two Python frames.
            if previous != 0 && entered_from_c(&fl, fb, owner) {
                through_c = true;
            }
            if owner < fl.first_non_python_owner {
                let code = fb.u64_at(fl.code) & fl.code_mask;
                let instr = fb.u64_at(fl.instr);
                if code == 0 {
                    if previous == 0 && is_base_frame(l, tstate, frame) {
                        break; // 3.15's base frame, where every stack ends
                    }
                    // Anywhere else, memory that no longer holds a frame: an entry frame read
                    // after its C stack slot was reused (owner, code and link zero) looked like
                    // the end of the stack, and cut a generator's callers off (3.13).
                    return Ok(false);
                }
                if depth == 1 && copy.in_chunk(frame) && copy.popped_in_second(frame, &fl) && self.code_meta(code).is_some_and(|m| m.generator) {
                    // A generator function's code in a thread's own frame is the call creating
                    // the generator: its first instruction moves the frame into the generator
                    // and leaves the code behind (no pop clears it). Popped by the second copy,
                    // it was a callee's frame copied as it was pushed over that one, caller
                    // link written and code not yet: 3.14 showed `outer;inner;inner` about
                    // once in 20k generator samples.
                    return Ok(false);
                }
                let adaptive = code + l.code_adaptive.unwrap() as u64;
                let pos = if instr == 0 { -1 } else { (instr as i64 - adaptive as i64) / 2 };
                self.raw.push(RawFrame { code, pos });
                root_is_generator = owner == GENERATOR_OWNER;
            }
            frame = previous;
        }
        if root_is_generator {
            // A thread's stack starts in its chunk. A running generator is linked to whatever
            // resumed it; one seen unlinked (3.11: though it said it ran, before the chunk and
            // after; 3.12+: behind an entry frame read after its C stack slot was reused)
            // had its callers cut off: 0.1% of the generators workload's samples on 3.11–3.13
            // under load. (A generator driven from C by a thread that never ran Python code
            // is lost with them.)
            return Ok(false);
        }
        if unconfirmed && through_c {
            // No frame confirmed the top, and with every frame inside a C call none shows
            // running: frames above the true top keep their bytes and link through entry
            // frames read after the chunk, so a stack of the phase before can look whole
            // (3.12 at 1 kHz kept up to 0.3% impossible stacks calling back and forth through
            // C). The stack must not have moved since the thread state was read.
            let dtop = tstate + l.tstate_datastack_chunk.unwrap() as u64 + 8;
            if self.mem.read_u64(dtop).ok() != Some(stack_top) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The frame running when the chunk was copied. `current` was running a moment before:
    /// since then the target may have called deeper (its callees sit one after another above
    /// it, each linked to its caller) or returned (then the top is below it).
    fn live_top(&mut self, copy: &Copy, tstate: u64, current: u64) -> Top {
        let Frames::Interp(fl) = self.layout.frames else { unreachable!() };
        let mut current = current;
        let mut cur = match copy.frame(current) {
            Some(cur) => cur,
            None if self.threads[&tstate].entries.iter().any(|e| e.0 == current) => &UNREAD,
            // Outside the chunk and not read with it (a generator's frame): as read next.
            None => return Top::Frame(current),
        };
        if !copy.in_chunk(current) {
            match self.entry_caller(copy, tstate, current, cur, None) {
                // 3.12+: an eval loop's entry frame: the loop is starting or ending, inside a
                // C call of the frame it links to. What it names may be stale (see
                // Frozen::nudge): the climb and the walk below judge that frame as any other.
                Entry::Caller(c) if copy.in_chunk(c) => {
                    current = c;
                    cur = copy.frame(c).unwrap();
                }
                Entry::Caller(_) | Entry::Unplaced => return Top::Torn,
                // Read with the chunk (a generator's frame): it must still run. One that has
                // called deeper since is taken as torn and read again.
                Entry::Not => return if running(&fl, cur) { Top::Frame(current) } else { Top::Torn },
            }
        }
        // Climb: the last running frame on the chain of callees above `current` is the top.
        // 3.11–3.13 cannot tell a caller still waiting from a returned frame (both stored their
        // stack pointer), so the climb passes through both; 3.14+ stops at the first popped one.
        // A callee entered through C links to an entry frame, which links back.
        let (mut f, mut top) = (current, None);
        for _ in 0..MAX_CLIMB {
            let fb = copy.frame(f).unwrap();
            if running(&fl, fb) {
                top = Some(f);
            } else if matches!(fl.live, Liveness::Executable) {
                break;
            }
            let Some(callee) = self.chunk_frame_end(copy, f) else { break };
            match copy.frame(callee) {
                Some(cb) if copy.in_chunk(callee) => {
                    let link = cb.u64_at(fl.previous);
                    let linked = link == f || self.entry_caller(copy, tstate, link, copy.frame(link).unwrap_or(&UNREAD), Some(callee)) == Entry::Caller(f);
                    if !linked || cb.u64_at(fl.code) & fl.code_mask == 0 || cb.u8_at(fl.owner) > 4 {
                        break;
                    }
                    f = callee;
                }
                _ if copy.in_chunk_range(callee) => {
                    // Past the copy: the stack may go on there.
                    return Top::Beyond(callee + fl.size as u64);
                }
                _ => break,
            }
        }
        if let Some(t) = top {
            return Top::Frame(t);
        }
        // `current` returned before the copy. Its callers' callees all sit where it sat, so a
        // caller still on the stack has no callee there: the first running caller is the top.
        let (mut f, mut callee) = (cur.u64_at(fl.previous), current);
        let mut extra = [0u8; 128];
        let mut extra_reads = 0;
        for _ in 0..MAX_DEPTH {
            if !copy.in_chunk(f) {
                // An entry frame not read with the chunk (deeper than last sample went) is read
                // now: one whose loop ended since still links where it did.
                let fb = match copy.frame(f) {
                    Some(fb) => fb,
                    None if extra_reads < MAX_TOP_READS && f & 7 == 0 && self.mem.read(f, &mut extra[..fl.size]).is_ok() => {
                        extra_reads += 1;
                        &extra[..fl.size]
                    }
                    None => &UNREAD,
                };
                match self.entry_caller(copy, tstate, f, fb, Some(callee)) {
                    Entry::Caller(c) => {
                        f = c;
                        continue;
                    }
                    _ => break,
                }
            }
            match copy.frame(f) {
                Some(fb) if f < current => {
                    if running(&fl, fb) {
                        return Top::Frame(f);
                    }
                    callee = f;
                    f = fb.u64_at(fl.previous);
                }
                _ => break,
            }
        }
        match fl.live {
            // No frame shows running: the copy met each frame just as the target left it (a
            // copy of lines the target is writing is no faster than the target). Take the frame
            // that was current; both copies must still agree on all its callers.
            Liveness::StackTop(_) => Top::Unconfirmed(current),
            Liveness::Executable => Top::Torn,
        }
    }

    /// 3.12+: whether the frame outside the chunk at `addr` (bytes `fb`, as copied) is an eval
    /// loop's C-stack entry frame, and the frame it links to, which the loop returns to.
    /// `callee` is the chunk frame linking to it, if any: the loop's first frame, as a rule
    /// pushed right after the one that called into C ("placed": the link ends where the
    /// callee starts).
    ///
    /// Entry frames are copied after the chunk, and one whose loop ended in between shows its
    /// stack slot reused (owner and link overwritten). Such a loop still ran at the copy (its
    /// first frame did), and a loop started at the same place links where the last one did:
    /// the link last seen whole and placed stands when it is placed again. Without this, a
    /// stack calling back and forth through C was read whole only while shallow, and retries
    /// kept those: at 1 kHz, on 3.12–3.15, 40% of samples of a recursion 11 deep landed at
    /// depth 3.
    fn entry_caller(&mut self, copy: &Copy, tstate: u64, addr: u64, fb: &[u8], callee: Option<u64>) -> Entry {
        let Frames::Interp(fl) = self.layout.frames else { unreachable!() };
        if fl.entry_flag.is_some() || copy.in_chunk(addr) {
            return Entry::Not; // 3.11 links callers directly
        }
        let owner = fb.u8_at(fl.owner);
        let whole = (fl.first_non_python_owner..=4).contains(&owner);
        let known = self.threads[&tstate].entries.iter().position(|e| e.0 == addr);
        let caller = match (whole, known) {
            (true, _) => fb.u64_at(fl.previous),
            (false, Some(i)) => self.threads[&tstate].entries[i].1,
            (false, None) => return Entry::Not,
        };
        // Where both sit in the chunk, the callee starts where the caller ends (unknown for a
        // popped caller on 3.14+, its code cleared).
        let placed = match callee {
            Some(c) if copy.in_chunk(caller) => self.chunk_frame_end(copy, caller).map(|end| end == c),
            _ => None,
        };
        match (whole, placed) {
            // On top (no callee): a loop starting or ending, its caller in its C call still,
            // as `live_top` checks; or a caller popped since (3.14+: its size is gone), which
            // `live_top` passes on its way down.
            (false, None) if copy.in_chunk(caller) => Entry::Caller(caller),
            (false, Some(false) | None) => Entry::Unplaced,
            (true, Some(true)) => {
                let entries = &mut self.threads.get_mut(&tstate).unwrap().entries;
                match known {
                    Some(i) => entries[i].1 = caller,
                    None => {
                        if entries.len() >= MAX_ENTRIES {
                            entries.remove(0);
                        }
                        entries.push((addr, caller));
                    }
                }
                Entry::Caller(caller)
            }
            // Whole but not placed: as read. Its caller may sit outside the chunk (a generator's
            // frame, an older chunk), or not end where the callee starts: the generators
            // workload showed both a frame between the two and a callee inside its caller's
            // span (seen on 3.12/3.13, cause not established), so being placed is not required
            // of what is read whole; only what is remembered must have been.
            (true, _) | (false, Some(true)) => Entry::Caller(caller),
        }
    }

    /// Where a frame in the chunk ends: its callee's place.
    fn chunk_frame_end(&mut self, copy: &Copy, f: u64) -> Option<u64> {
        let Frames::Interp(fl) = self.layout.frames else { unreachable!() };
        let fb = copy.frame(f).filter(|_| copy.in_chunk(f))?;
        let w = self.frame_words(fb.u64_at(fl.code) & fl.code_mask)?;
        Some(f + w * 8)
    }

    /// Whether entry frame `entry`, found on top of a stopped thread, links to the frame its
    /// eval loop returns to: `caller` must be the chunk's topmost frame (`stack_top`, read
    /// with the thread state), or the one below it when that one links back to `entry` (the
    /// loop's last frame not yet popped, or its first being started). Frames sit in the chunk
    /// one after another. A caller outside the chunk (a generator or coroutine calling through
    /// C) cannot be placed so and is taken as read: a loop starting fills in `entry` within
    /// its first few dozen instructions.
    fn entry_links_caller(&mut self, copy: &Copy, entry: u64, caller: u64, stack_top: u64) -> bool {
        let Frames::Interp(fl) = self.layout.frames else { unreachable!() };
        if !copy.in_chunk(caller) {
            return true;
        }
        let Some(above) = self.chunk_frame_end(copy, caller) else { return false };
        above == stack_top
            || (self.chunk_frame_end(copy, above) == Some(stack_top) && copy.frame(above).is_some_and(|fb| fb.u64_at(fl.previous) == entry))
    }

    /// A stack deeper than its chunk: the used parts of its older chunks, in a call of their
    /// own after the chunk's, so that a wrong guess of the chunk is found before copying them.
    /// (In one call, a recursion thousands of frames deep, growing into a new chunk every
    /// ~15 µs, made every retry copy them, ~50 µs, by which time its guess was wrong again.)
    /// They hold callers only and stay put while the chunk is in use: it must still be, with
    /// the same first frame. (Its address alone let through stacks whose older chunks came from
    /// another phase: the stack had left the chunk and grown back into one mapped at the same
    /// address, 0.3% of samples on 3.14 with tests/workloads/chunks.py.) `chunk_at`: where the
    /// chunk's copy is in `self.buf`; `t0`: when the first call began.
    fn read_older_chunks(&mut self, tstate: u64, outside: &Outside, chunk: u64, chunk_at: usize, t0: Instant) -> Result<bool, Error> {
        let Frames::Interp(fl) = self.layout.frames else { unreachable!() };
        let chunk_field = tstate + self.layout.tstate_datastack_chunk.unwrap() as u64;
        self.regions.clear();
        self.regions.extend_from_slice(&outside.chunks);
        self.regions.push((chunk_field, 8));
        self.regions.push((chunk + CHUNK_HEADER as u64, fl.size));
        let read = self.mem.read_many_counted(&self.regions, &mut self.chunks_buf)?;
        if read < self.chunks_buf.len() {
            // One was freed since: learn them again.
            let slot = self.threads.get_mut(&tstate).unwrap();
            slot.outside.chunks.clear();
            slot.older_for = 0;
            return Ok(false);
        }
        let n = self.chunks_buf.len() - 8 - fl.size;
        let first = &self.buf[chunk_at + CHUNK_HEADER..];
        let same = self.chunks_buf.u64_at(n) == chunk
            && first.len() >= fl.size
            && same_frame(&fl, &first[..fl.size], &self.chunks_buf[n + 8..], false)
            && t0.elapsed() <= max_read_time(self.buf.len() + n);
        self.chunks_buf.truncate(n);
        Ok(same)
    }

    /// Reads the thread state alone and places the chunk it names (errors if the thread state
    /// itself is gone).
    fn ask_chunk(&mut self, tstate: u64, slack: usize) -> Result<(), Error> {
        let off = self.layout.tstate_datastack_chunk.unwrap();
        let mut ts = [0u8; 24]; // datastack_chunk, datastack_top, datastack_limit
        self.mem.read(tstate + off as u64, &mut ts)?;
        let (chunk, top, limit) = (ts.u64_at(0), ts.u64_at(8), ts.u64_at(16));
        self.place_chunk(tstate, chunk, top.saturating_sub(chunk) as usize, limit.saturating_sub(chunk) as usize, slack);
        Ok(())
    }

    /// The guess was off: remember the thread's chunk (`size` bytes) and read at least what it
    /// uses now, plus `slack`.
    fn place_chunk(&mut self, tstate: u64, chunk: u64, used: usize, size: usize, slack: usize) {
        let slot = self.threads.get_mut(&tstate).unwrap();
        let size = if (used..=1 << 30).contains(&size) { size } else { DEFAULT_CHUNK as usize };
        let want = (used + slack).min(size);
        slot.chunk_len = if slot.chunk == chunk { want.max(slot.chunk_len.min(size)) } else { want };
        slot.chunk_size = size;
        slot.chunk = chunk;
    }

    /// The chunks below `chunk` (whose header names `previous`), all of them: a stack deeper
    /// than one chunk unwinds into its older chunks, freeing the newer ones, and grows into
    /// new ones at other addresses. Learned one at a time by walks that met their frames, a
    /// 3000-deep recursion in a loop lost 12% of its samples relearning them. Mostly the stack
    /// moved by one chunk: back into an older one, whose own older ones are known, or on into
    /// a new one, whose previous is the one it left. False if they were known already.
    fn learn_older_chunks(&mut self, tstate: u64, chunk: u64, previous: u64) -> bool {
        let slot = self.threads.get_mut(&tstate).unwrap();
        if slot.older_for == chunk {
            return false;
        }
        let was = std::mem::replace(&mut slot.older_for, chunk);
        let known = std::mem::take(&mut slot.outside.chunks);
        let older = if let Some(i) = known.iter().position(|c| c.0 == chunk) {
            Some(known[i + 1..].to_vec())
        } else if previous == 0 {
            Some(Vec::new())
        } else if previous == was {
            self.older_chunks(previous, 1).map(|mut left| {
                left.extend(known);
                left
            })
        } else {
            self.older_chunks(previous, MAX_OLDER_CHUNKS)
        };
        self.threads.get_mut(&tstate).unwrap().outside.chunks = older.unwrap_or_default();
        true
    }

    /// The used parts of the chunks from `chunk` down, at most `most` (from their headers:
    /// previous chunk, size, words in use); None if a header makes no sense.
    fn older_chunks(&self, mut chunk: u64, most: usize) -> Option<Vec<(u64, usize)>> {
        let mut chunks = Vec::new();
        for _ in 0..most {
            if chunk == 0 {
                break;
            }
            if chunk & 7 != 0 {
                return None;
            }
            let mut h = [0u8; CHUNK_HEADER];
            self.mem.read(chunk, &mut h).ok()?;
            let (size, top) = (h.u64_at(8), h.u64_at(16));
            if !(CHUNK_HEADER as u64..=1 << 30).contains(&size) || top > size / 8 {
                return None;
            }
            chunks.push((chunk, (CHUNK_HEADER as u64 + top * 8).min(size) as usize));
            chunk = h.u64_at(0);
        }
        Some(chunks)
    }

    /// All the chunks below the copied one, if one of them holds `frame` (older chunks hold
    /// only callers, so a walk that reached one needs them all).
    fn older_chunks_to(&self, copy: &Copy, frame: u64) -> Option<Vec<(u64, usize)>> {
        let chunks = self.older_chunks(copy.bytes.get(..8)?.u64_at(0), MAX_OLDER_CHUNKS)?;
        chunks.iter().any(|&(c, len)| frame >= c && frame - c < len as u64).then_some(chunks)
    }

    /// A frame's size in words, from its code object (cached with its metadata).
    fn frame_words(&mut self, code: u64) -> Option<u64> {
        if code == 0 {
            return None;
        }
        self.code_meta(code).map(|m| m.frame_words as u64).filter(|&w| w > 0)
    }

    /// ≤3.10: PyFrameObjects on the heap, linked by f_back. Reads last sample's chain
    /// speculatively in one call, follows the rest one frame at a time.
    fn read_object_stack(&mut self, tstate: u64, next: &mut u64) -> Result<bool, Error> {
        let l = self.layout;
        let Frames::Objects(fl) = l.frames else { unreachable!() };
        let CurrentFrame::Direct(frame_off) = l.tstate_current_frame else { unreachable!() };
        let mut chain = std::mem::take(&mut self.threads.get_mut(&tstate).unwrap().chain);
        self.regions.clear();
        self.regions.push((tstate, l.tstate_read));
        for &f in &chain {
            self.regions.push((f, fl.size));
        }
        self.regions.push((tstate, frame_off + 8));
        let t0 = std::time::Instant::now();
        let whole = self.mem.read_many(&self.regions, &mut self.buf)?;
        if t0.elapsed() > MAX_READ_TIME + PER_REGION * self.regions.len() as u32 {
            self.threads.get_mut(&tstate).unwrap().chain = chain;
            return Ok(false);
        }
        if !whole {
            // A guessed frame was freed: read the thread state alone, follow from scratch.
            chain.clear();
            self.buf.resize(l.tstate_read + frame_off + 8, 0);
            self.mem.read(tstate, &mut self.buf[..l.tstate_read])?;
            let copy = self.buf[..frame_off + 8].to_vec();
            self.buf[l.tstate_read..].copy_from_slice(&copy);
        }
        *next = self.buf.u64_at(l.tstate_next);
        let first = self.buf.u64_at(frame_off);
        let after = l.tstate_read + chain.len() * fl.size;
        if self.buf.u64_at(after + frame_off) != first {
            self.threads.get_mut(&tstate).unwrap().chain = chain;
            return Ok(false);
        }
        let mut new_chain = Vec::with_capacity(chain.len() + 4);
        let mut frame = first;
        // Frames that match the guessed chain come from the one-call snapshot.
        for (i, &guess) in chain.iter().enumerate() {
            if frame == 0 || guess != frame {
                break;
            }
            let o = l.tstate_read + i * fl.size;
            let fb = &self.buf[o..o + fl.size];
            self.raw.push(RawFrame { code: fb.u64_at(fl.code), pos: fb.i32_at(fl.lasti) as i64 });
            new_chain.push(frame);
            frame = fb.u64_at(fl.back);
        }
        // The rest, one frame per read; then check the top frame did not move meanwhile.
        let followed = frame != 0;
        let mut fb = [0u8; 128];
        let fb = &mut fb[..fl.size];
        let mut ok = true;
        while frame != 0 {
            if new_chain.len() >= MAX_DEPTH || frame & 7 != 0 || self.mem.read(frame, fb).is_err() {
                ok = false;
                break;
            }
            self.raw.push(RawFrame { code: fb.u64_at(fl.code), pos: fb.i32_at(fl.lasti) as i64 });
            new_chain.push(frame);
            frame = fb.u64_at(fl.back);
        }
        if ok && followed && self.mem.read_u64(tstate + frame_off as u64)? != first {
            ok = false;
        }
        if ok && !new_chain.is_empty() {
            ok = self.chain_unchanged(tstate + frame_off as u64, first, &new_chain)?;
        }
        // A thread's bottom frame lives as long as the thread: a walk that ends on another
        // frame followed a stale f_back (a freed frame) and is torn. A new bottom that
        // persists (the thread state was reused by a new thread) is accepted after a few tries.
        let slot = self.threads.get_mut(&tstate).unwrap();
        if ok {
            if let Some(&root) = new_chain.last() {
                if slot.root != 0 && slot.root != root {
                    slot.root_misses += 1;
                    if slot.root_misses < 8 {
                        ok = false;
                    } else {
                        slot.root = root;
                    }
                } else {
                    slot.root = root;
                    slot.root_misses = 0;
                }
            }
        }
        slot.chain = new_chain;
        Ok(ok)
    }

    /// ≤3.10: frame objects are recycled (free lists, each code's zombie frame), so a chain
    /// followed through the heap over several microseconds can link frames of two stacks.
    /// Reads the chain once more in one call: every frame must still have its code and caller
    /// link, and the thread its top frame. Raw frames were pushed leaf first, like `chain`.
    fn chain_unchanged(&mut self, top_field: u64, first: u64, chain: &[u64]) -> Result<bool, Error> {
        let Frames::Objects(fl) = self.layout.frames else { unreachable!() };
        self.regions.clear();
        self.regions.extend(chain.iter().map(|&f| (f, fl.size)));
        self.regions.push((top_field, 8));
        if !self.mem.read_many(&self.regions, &mut self.buf)? {
            return Ok(false);
        }
        let n = chain.len();
        for i in 0..n {
            let fb = &self.buf[i * fl.size..(i + 1) * fl.size];
            let back = chain.get(i + 1).copied().unwrap_or(0);
            if fb.u64_at(fl.back) != back || fb.u64_at(fl.code) != self.raw[i].code {
                return Ok(false);
            }
        }
        Ok(self.buf.u64_at(n * fl.size) == first)
    }

    fn frame_id(&mut self, table: &FrameTable, code: u64, pos: i64) -> Option<FrameId> {
        if let Some(&id) = self.frame_ids.get(&(code, pos)) {
            return Some(id);
        }
        let meta = self.code_meta(code)?;
        if meta.shim {
            // Only an entry frame runs it, and the walk skips those by their owner: this one
            // was read after the C stack under it was reused (its owner byte overwritten).
            return None;
        }
        let line = meta.lines.line(pos);
        let id = table.intern(FrameInfo { file: meta.file.clone(), qualname: meta.qualname.clone(), line, first_line: meta.first_line });
        self.frame_ids.insert((code, pos), id);
        Some(id)
    }

    fn code_meta(&mut self, code: u64) -> Option<Arc<CodeMeta>> {
        if let Some(m) = self.codes.get(&code) {
            return Some(m.clone());
        }
        // Failures are not remembered: a torn pointer may name a real code object later.
        let meta = Arc::new(self.read_code(code)?);
        self.codes.insert(code, meta.clone());
        self.code_order.push(code);
        Some(meta)
    }

    /// Code objects are freed (a module's top-level code once imported, class bodies, exec'd
    /// code) and new ones may take their address; names cached by address would then be wrong
    /// for good. Reads the fingerprint fields of the code objects in each thread's last
    /// sample (the ones being sampled now) and of CODES_CHECK_ROTATION others in one call, and
    /// forgets every one that changed, with its frame ids: a dead code's name lasts at most
    /// CODES_CHECK_EVERY. (Seen before: a 3.8 program profiled from its start showed its
    /// innermost function as an imported module's `<module>` in 16% of samples.)
    fn check_codes(&mut self) {
        let l = self.layout;
        let (lo, hi) = fingerprint_span(l);
        let mut batch: Vec<u64> = self.threads.values().flat_map(|t| t.last_codes.iter().copied()).collect();
        let n = self.code_order.len();
        if n > CODES_CHECK_ROTATION {
            let start = self.codes_cursor % n;
            batch.extend(self.code_order.iter().cycle().skip(start).take(CODES_CHECK_ROTATION));
            self.codes_cursor = start + CODES_CHECK_ROTATION;
        } else {
            batch.extend_from_slice(&self.code_order);
        }
        batch.sort_unstable();
        batch.dedup();
        batch.retain(|c| self.codes.contains_key(c));
        if batch.is_empty() {
            return;
        }
        self.regions.clear();
        self.regions.extend(batch.iter().map(|&c| (c + lo as u64, hi - lo)));
        let stale: Vec<u64> = match self.mem.read_many(&self.regions, &mut self.buf) {
            Ok(true) => batch
                .iter()
                .enumerate()
                .filter(|&(i, c)| {
                    let now = fingerprint(l, &self.buf[i * (hi - lo)..(i + 1) * (hi - lo)], lo);
                    self.codes.get(c).is_some_and(|m| m.fingerprint != now)
                })
                .map(|(_, &c)| c)
                .collect(),
            // Some code object's memory is gone: start the caches afresh.
            _ => batch,
        };
        if stale.is_empty() {
            return;
        }
        for c in &stale {
            self.codes.remove(c);
        }
        let stale: std::collections::HashSet<u64> = stale.into_iter().collect();
        self.code_order.retain(|c| !stale.contains(c));
        self.frame_ids.retain(|(c, _), _| !stale.contains(c));
    }

    fn read_code(&self, code: u64) -> Option<CodeMeta> {
        let l = self.layout;
        let mut b = vec![0u8; l.code_adaptive.unwrap_or(l.code_linetable + 8)];
        self.mem.read(code, &mut b).ok()?;
        if let Some(t) = self.interp.code_type {
            if b.u64_at(layout::OB_TYPE) != t {
                return None;
            }
        }
        let file = unicode::read_str(&self.mem, l, b.u64_at(l.code_filename))?;
        let name_ptr = l.code_qualname.map_or(b.u64_at(l.code_name), |o| b.u64_at(o));
        let qualname = unicode::read_str(&self.mem, l, name_ptr)?;
        let first_line = b.i32_at(l.code_firstlineno).max(0) as u32;
        let table = unicode::read_bytes(&self.mem, b.u64_at(l.code_linetable)).unwrap_or_default();
        let kind: LineTable = l.line_table;
        let frame_words = match l.frames {
            Frames::Interp(InterpFrame { frame_size: FrameSize::Words(o), .. }) => b.i32_at(o).max(0) as u32,
            Frames::Interp(InterpFrame { frame_size: FrameSize::Slots { nlocalsplus, stacksize, specials }, .. }) => {
                (b.i32_at(nlocalsplus).max(0) + b.i32_at(stacksize).max(0)) as u32 + specials as u32
            }
            Frames::Objects(_) => 0,
        };
        let fingerprint = fingerprint(l, &b, 0);
        let shim = file == "<shim>";
        let generator = l.code_flags.is_some_and(|o| b.i32_at(o) & CO_GENERATOR_KINDS != 0);
        Some(CodeMeta { file: file.into(), qualname: qualname.into(), first_line, lines: Lines::decode(kind, &table, first_line), frame_words, fingerprint, shim, generator })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame address read from the target can be anything; one near the top of the address
    /// space once wrapped past u64::MAX, passed as inside the copy and panicked the sampler.
    #[test]
    fn an_address_near_the_top_is_not_in_the_copy() {
        let bytes = vec![0u8; 4096];
        let outside = Outside::default();
        let copy = Copy { chunk: 0x7f00_0000_0000, bytes: &bytes, second: &bytes, outside: &outside, before_bytes: &[], chunks_bytes: &[], after_bytes: &[], again_bytes: &[], size: 80 };
        for addr in [u64::MAX - 7, u64::MAX - 79, u64::MAX - 4096] {
            assert!(!copy.in_chunk(addr) && !copy.in_chunk_range(addr) && copy.frame(addr).is_none(), "{addr:#x}");
        }
        assert!(copy.in_chunk(0x7f00_0000_0000 + 4096 - 80) && !copy.in_chunk(0x7f00_0000_0000 + 4096 - 79));
    }

    /// 3.14+ clears a popped frame's code, so a frame whose code is gone by the second copy is
    /// the same frame, popped; on 3.11-3.13 a changed code is another frame. (A popped top
    /// with a generator function's code is refused on top of this: see `walk_interp`.)
    #[test]
    fn only_314_frames_may_be_popped_between_the_copies() {
        let chunk = 0x7f00_0000_0000u64;
        let at = CHUNK_HEADER;
        for (label, layout, clears) in [("3.12", &layout::PY312, false), ("3.14", &layout::PY314, true)] {
            let Frames::Interp(fl) = layout.frames else { unreachable!() };
            let mut first = vec![0u8; 512];
            first[at + fl.code..at + fl.code + 8].copy_from_slice(&0x5000u64.to_le_bytes());
            first[at + fl.previous..at + fl.previous + 8].copy_from_slice(&0x6000u64.to_le_bytes());
            // (popped in the second copy, the same frame in both) against a second copy.
            let judge = |second: &[u8]| {
                let outside = Outside::default();
                let copy = Copy { chunk, bytes: &first, second, outside: &outside, before_bytes: &[], chunks_bytes: &[], after_bytes: &[], again_bytes: &[], size: fl.size };
                (copy.popped_in_second(chunk + at as u64, &fl), copy.same_in_second(chunk + at as u64, &fl))
            };
            let mut popped = first.clone();
            popped[at + fl.code..at + fl.code + 8].fill(0);
            assert_eq!(judge(&popped), (clears, clears), "{label}: code cleared");
            let mut other = first.clone();
            other[at + fl.code..at + fl.code + 8].copy_from_slice(&0x7000u64.to_le_bytes());
            assert_eq!(judge(&other), (false, false), "{label}: another code");
            let mut relinked = popped.clone();
            relinked[at + fl.previous..at + fl.previous + 8].copy_from_slice(&0x6100u64.to_le_bytes());
            assert!(!judge(&relinked).1, "{label}: another caller");
            assert_eq!(judge(&first), (false, true), "{label}: unchanged");
        }
    }
}
