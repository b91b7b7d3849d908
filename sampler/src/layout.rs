//! Per-minor struct offsets (x86_64, default GIL builds), measured from each version's headers
//! (see ../shared/reference/cpython-offsets). 3.13+ are checked against the target's own
//! `_Py_DebugOffsets` before use (python.rs). `ObjectLayout`'s 3.14/3.15 offsets (no headers
//! with debug info here) were found by scanning a live interpreter's own structs for known
//! pointers (`id(sys.modules)`, a class's shared keys); tests read thread names on every minor.

/// How a thread's current frame is reached from its PyThreadState.
#[derive(Debug, Clone, Copy)]
pub enum CurrentFrame {
    /// ≤3.10: `tstate->frame`, a PyFrameObject.
    Direct(usize),
    /// 3.11/3.12: `tstate->cframe->current_frame`.
    ViaCFrame { cframe: usize, current_frame: usize },
}

#[derive(Debug, Clone, Copy)]
pub enum Gil {
    /// ≤3.11: `_PyRuntime.gilstate.tstate_current` is the holder.
    RuntimeTstateCurrent(usize),
    /// 3.12+: the interpreter's `_gil` {last_holder, locked}; the holder is valid while locked.
    InterpGil { last_holder: usize, locked: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineTable {
    /// ≤3.9 `co_lnotab`, f_lasti in bytes.
    Lnotab,
    /// 3.10 `co_linetable`, f_lasti in code units.
    Linetable310,
    /// 3.11+ location table, instruction pointer relative to co_code_adaptive.
    Locations,
}

/// PyFrameObject (≤3.10).
#[derive(Debug, Clone, Copy)]
pub struct FrameObject {
    pub back: usize,
    pub code: usize,
    pub lasti: usize,
    pub size: usize,
}

/// _PyInterpreterFrame (3.11+).
#[derive(Debug, Clone, Copy)]
pub struct InterpFrame {
    pub code: usize,
    pub previous: usize,
    pub instr: usize,
    pub owner: usize,
    pub size: usize,
    /// Owners at or above this are not Python frames (C stack shims / interpreter frames).
    pub first_non_python_owner: u8,
    /// Mask for tagged `_PyStackRef` executables (3.14+).
    pub code_mask: u64,
    /// What tells the frames on the stack from stale ones in a copy of the chunk.
    pub live: Liveness,
    /// Where the code object gives a frame's size in the chunk (its callee sits right after).
    pub frame_size: FrameSize,
    /// 3.11: `is_entry`, set on a frame the eval loop was entered with from C. Later minors
    /// put a C-stack frame (owner ≥ first_non_python_owner) between it and its caller.
    pub entry_flag: Option<usize>,
}

/// `FRAME_OWNED_BY_GENERATOR`, the same on 3.11–3.15: the frame lives in a generator or
/// coroutine object, outside the thread's chunk.
pub const GENERATOR_OWNER: u8 = 1;

/// How a copy of the chunk shows which frames are on the stack.
#[derive(Debug, Clone, Copy)]
pub enum Liveness {
    /// 3.11–3.13: `stacktop` (an int at this offset) is -1 while the eval loop holds the
    /// frame's stack pointer in a register: the running frame, or one inside a C call. A frame
    /// that returned, or that called a Python function, stored it (≥ 0).
    StackTop(usize),
    /// 3.14+: a popped frame's executable is cleared; its caller link is set before its
    /// executable when it is pushed.
    Executable,
}

/// A frame's size in words, read from its code object.
#[derive(Debug, Clone, Copy)]
pub enum FrameSize {
    /// 3.11: `co_nlocalsplus + co_stacksize + specials` (int offsets, then the header words).
    Slots { nlocalsplus: usize, stacksize: usize, specials: u64 },
    /// 3.12+: `co_framesize` (an int at this offset).
    Words(usize),
}

#[derive(Debug, Clone, Copy)]
pub enum Frames {
    Objects(FrameObject),
    Interp(InterpFrame),
}

#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub runtime_interpreters_head: usize,
    pub interp_threads_head: usize,
    pub gil: Gil,
    pub tstate_next: usize,
    pub tstate_current_frame: CurrentFrame,
    /// pthread_t (≤3.10) or PyThread_get_thread_ident.
    pub tstate_thread_id: usize,
    /// Kernel TID (3.11+).
    pub tstate_native_thread_id: Option<usize>,
    /// `datastack_chunk`; `datastack_top` follows it (3.11+).
    pub tstate_datastack_chunk: Option<usize>,
    /// 3.15: `base_frame`, a frame inside the thread state that every thread's stack ends at
    /// (no code, no caller).
    pub tstate_base_frame: Option<usize>,
    /// How many bytes of PyThreadState the sampler reads.
    pub tstate_read: usize,
    pub frames: Frames,
    pub code_filename: usize,
    pub code_name: usize,
    pub code_qualname: Option<usize>,
    pub code_linetable: usize,
    pub code_firstlineno: usize,
    pub code_adaptive: Option<usize>,
    /// 3.11+: `co_flags` (read to tell a generator function's code).
    pub code_flags: Option<usize>,
    pub line_table: LineTable,
    pub unicode_ascii_size: usize,
    pub unicode_compact_size: usize,
    pub objects: ObjectLayout,
}

/// What reading `threading._active` needs: the modules dict, dicts, instance attributes, ints.
#[derive(Debug, Clone, Copy)]
pub struct ObjectLayout {
    /// `interp->modules` (≤3.11) / `interp->imports.modules` (3.12+), i.e. `sys.modules`.
    pub interp_modules: usize,
    /// `PyHeapTypeObject.ht_cached_keys`: the shared keys of instances without a dict of their own.
    pub ht_cached_keys: usize,
    pub dict_keys: DictKeys,
    pub instance_dict: InstanceDict,
    /// ≤3.11 `ob_size` counts digits (signed); 3.12+ `lv_tag` holds count << 3 and sign bits.
    pub long_tagged: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DictKeys {
    /// ≤3.10: dk_size at 8, dk_nentries at 32, indices at 40 sized by dk_size; entries
    /// {hash, key, value}.
    Sized,
    /// 3.11+: log2 size at 8, log2 index bytes at 9, kind at 10, dk_nentries at 24, indices at
    /// 32; unicode-only kinds store entries as {key, value}.
    Log2,
}

/// Where an instance keeps its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceDict {
    /// ≤3.10: a dict at `tp_dictoffset`; split tables keep values in a bare array.
    DictOffset,
    /// 3.11: dict pointer at -24, else values array pointer at -32.
    Managed311,
    /// 3.12: one word at -24, a dict, or a values array tagged by subtracting 1.
    Tagged312,
    /// 3.13+: dict pointer at -24, else values inline after the object header (4 bytes of
    /// header, values at +8 into it).
    Inline313,
}

pub const TYPE_BASICSIZE: usize = 32;
pub const TYPE_FLAGS: usize = 168;
pub const TYPE_DICTOFFSET: usize = 288;
pub const DICT_KEYS: usize = 32;
pub const DICT_VALUES: usize = 40;
pub const MODULE_DICT: usize = 16;
pub const LONG_DIGITS: usize = 24;

pub const OB_TYPE: usize = 8;
pub const UNICODE_LENGTH: usize = 16;
pub const UNICODE_STATE: usize = 32;
pub const BYTES_SIZE: usize = 16;
pub const BYTES_DATA: usize = 32;

const fn objects(minor: u8, lasti: usize, lt: LineTable) -> Layout {
    Layout {
        runtime_interpreters_head: 32,
        interp_threads_head: 8,
        gil: Gil::RuntimeTstateCurrent(match minor { 8 => 1368, _ => 568 }),
        tstate_next: 8,
        tstate_current_frame: CurrentFrame::Direct(24),
        tstate_thread_id: 176,
        tstate_native_thread_id: None,
        tstate_datastack_chunk: None,
        tstate_base_frame: None,
        tstate_read: 184,
        frames: Frames::Objects(FrameObject { back: 24, code: 32, lasti, size: lasti + 4 }),
        code_filename: 104,
        code_name: 112,
        code_qualname: None,
        code_linetable: 120,
        code_firstlineno: 40,
        code_adaptive: None,
        code_flags: None,
        line_table: lt,
        unicode_ascii_size: 48,
        unicode_compact_size: 72,
        objects: ObjectLayout {
            interp_modules: match minor { 8 => 56, _ => 856 },
            ht_cached_keys: match minor { 9 => 864, _ => 872 },
            dict_keys: DictKeys::Sized,
            instance_dict: InstanceDict::DictOffset,
            long_tagged: false,
        },
    }
}

pub const PY38: Layout = objects(8, 104, LineTable::Lnotab);
pub const PY39: Layout = objects(9, 104, LineTable::Lnotab);
pub const PY310: Layout = objects(10, 96, LineTable::Linetable310);

pub const PY311: Layout = Layout {
    runtime_interpreters_head: 40,
    interp_threads_head: 16,
    gil: Gil::RuntimeTstateCurrent(576),
    tstate_next: 8,
    tstate_current_frame: CurrentFrame::ViaCFrame { cframe: 56, current_frame: 8 },
    tstate_thread_id: 152,
    tstate_native_thread_id: Some(160),
    tstate_datastack_chunk: Some(296),
    tstate_base_frame: None,
    tstate_read: 320,
    frames: Frames::Interp(InterpFrame { code: 32, previous: 48, instr: 56, owner: 69, size: 80, first_non_python_owner: 3, code_mask: !0,
        live: Liveness::StackTop(64),
        frame_size: FrameSize::Slots { nlocalsplus: 76, stacksize: 68, specials: 9 },
        entry_flag: Some(68),
    }),
    code_filename: 112,
    code_name: 120,
    code_qualname: Some(128),
    code_linetable: 136,
    code_firstlineno: 72,
    code_adaptive: Some(184),
    code_flags: Some(48),
    line_table: LineTable::Locations,
    unicode_ascii_size: 48,
    unicode_compact_size: 72,
    objects: ObjectLayout {
        interp_modules: 888,
        ht_cached_keys: 872,
        dict_keys: DictKeys::Log2,
        instance_dict: InstanceDict::Managed311,
        long_tagged: false,
    },
};

pub const PY312: Layout = Layout {
    runtime_interpreters_head: 40,
    interp_threads_head: 72,
    gil: Gil::InterpGil { last_holder: 1048, locked: 1056 },
    tstate_next: 8,
    tstate_current_frame: CurrentFrame::ViaCFrame { cframe: 56, current_frame: 0 },
    tstate_thread_id: 136,
    tstate_native_thread_id: Some(144),
    tstate_datastack_chunk: Some(232),
    tstate_base_frame: None,
    tstate_read: 256,
    frames: Frames::Interp(InterpFrame { code: 0, previous: 8, instr: 56, owner: 70, size: 80, first_non_python_owner: 3, code_mask: !0,
        live: Liveness::StackTop(64),
        frame_size: FrameSize::Words(76),
        entry_flag: None,
    }),
    code_filename: 112,
    code_name: 120,
    code_qualname: Some(128),
    code_linetable: 136,
    code_firstlineno: 68,
    code_adaptive: Some(192),
    code_flags: Some(48),
    line_table: LineTable::Locations,
    unicode_ascii_size: 40,
    unicode_compact_size: 56,
    objects: ObjectLayout {
        interp_modules: 944,
        ht_cached_keys: 880,
        dict_keys: DictKeys::Log2,
        instance_dict: InstanceDict::Tagged312,
        long_tagged: true,
    },
};

pub const PY313: Layout = Layout {
    runtime_interpreters_head: 632,
    interp_threads_head: 7344,
    gil: Gil::InterpGil { last_holder: 7760, locked: 7768 },
    tstate_current_frame: CurrentFrame::Direct(72),
    tstate_thread_id: 152,
    tstate_native_thread_id: Some(160),
    code_adaptive: Some(200),
    objects: ObjectLayout { interp_modules: 7656, instance_dict: InstanceDict::Inline313, ..PY312.objects },
    ..PY312
};

pub const PY314: Layout = Layout {
    runtime_interpreters_head: 808,
    interp_threads_head: 7344,
    gil: Gil::InterpGil { last_holder: 7792, locked: 7800 },
    frames: Frames::Interp(InterpFrame { code: 0, previous: 8, instr: 56, owner: 74, size: 88, first_non_python_owner: 3, code_mask: !3,
        live: Liveness::Executable,
        frame_size: FrameSize::Words(76),
        entry_flag: None,
    }),
    code_adaptive: Some(208),
    objects: ObjectLayout { interp_modules: 7688, ..PY313.objects },
    ..PY313
};

pub const PY315: Layout = Layout {
    runtime_interpreters_head: 936,
    interp_threads_head: 7336,
    gil: Gil::InterpGil { last_holder: 7744, locked: 7752 },
    tstate_thread_id: 176,
    tstate_native_thread_id: Some(184),
    tstate_datastack_chunk: Some(256),
    tstate_base_frame: Some(80),
    tstate_read: 280,
    objects: ObjectLayout { interp_modules: 7592, ht_cached_keys: 888, ..PY314.objects },
    ..PY314
};

pub fn for_minor(minor: u8) -> Option<&'static Layout> {
    Some(match minor {
        8 => &PY38,
        9 => &PY39,
        10 => &PY310,
        11 => &PY311,
        12 => &PY312,
        13 => &PY313,
        14 => &PY314,
        15 => &PY315,
        _ => return None,
    })
}
