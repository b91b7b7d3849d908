//! Reads a few kinds of Python objects from outside: dicts looked up by str key, instance
//! attributes, ints and strs. Stacks do not need this; thread names do. The target keeps
//! running while we read, so every size is bounded and anything that does not make sense is
//! `None` (the caller tries again later).

use crate::layout::{
    DictKeys, InstanceDict, Layout, ObjectLayout, DICT_KEYS, DICT_VALUES, LONG_DIGITS, OB_TYPE, TYPE_BASICSIZE,
    TYPE_DICTOFFSET, TYPE_FLAGS, UNICODE_LENGTH, UNICODE_STATE,
};
use crate::memory::{Bytes, Remote};
use crate::unicode;

/// Larger dicts are not what we look for (sys.modules of a big program has a few thousand).
const MAX_ENTRIES: u64 = 1 << 15;
const TPFLAGS_INLINE_VALUES: u64 = 1 << 2;
const TPFLAGS_MANAGED_DICT: u64 = 1 << 4;

pub struct Objects<'a> {
    mem: &'a Remote,
    layout: &'static Layout,
}

/// A dict's key table as read: each entry's key, and its value where the table holds values.
struct Entries {
    keys: Vec<u64>,
    values: Vec<u64>,
}

impl<'a> Objects<'a> {
    pub fn new(mem: &'a Remote, layout: &'static Layout) -> Objects<'a> {
        Objects { mem, layout }
    }

    fn ol(&self) -> &ObjectLayout {
        &self.layout.objects
    }

    pub fn word(&self, addr: u64) -> Option<u64> {
        self.mem.read_u64(addr).ok()
    }

    /// `sys.modules` of the interpreter state at `interp`.
    pub fn sys_modules(&self, interp: u64) -> Option<u64> {
        nonzero(self.word(interp + self.ol().interp_modules as u64)?)
    }

    pub fn str(&self, addr: u64) -> Option<String> {
        unicode::read_str(self.mem, self.layout, addr)
    }

    /// The value stored under the ASCII key `name` in a dict whose keys are strs.
    pub fn dict_get(&self, dict: u64, name: &str) -> Option<u64> {
        let (e, values) = self.dict(dict)?;
        let i = self.find_key(&e.keys, name)?;
        if values == 0 { nonzero(e.values[i]) } else { self.split_value(values, i) }
    }

    /// Every (key, value) of a dict.
    pub fn dict_items(&self, dict: u64) -> Option<Vec<(u64, u64)>> {
        let (e, values) = self.dict(dict)?;
        if values != 0 {
            return None; // split tables only hold instance attributes, not what we iterate
        }
        Some(e.keys.into_iter().zip(e.values).filter(|&(k, v)| k != 0 && v != 0).collect())
    }

    /// A dict's key table, and its split values array (0 for a combined table).
    fn dict(&self, dict: u64) -> Option<(Entries, u64)> {
        let mut head = [0u8; DICT_VALUES + 8];
        self.mem.read(dict, &mut head).ok()?;
        Some((self.entries(head.u64_at(DICT_KEYS))?, head.u64_at(DICT_VALUES)))
    }

    /// The attribute `name` of an ordinary class instance (from its `__dict__`, wherever
    /// this version keeps it).
    pub fn attr(&self, obj: u64, name: &str) -> Option<u64> {
        let ty = self.word(obj + OB_TYPE as u64)?;
        let mut t = [0u8; TYPE_DICTOFFSET + 8];
        self.mem.read(ty, &mut t).ok()?;
        let flags = t.u64_at(TYPE_FLAGS);
        let managed = flags & TPFLAGS_MANAGED_DICT != 0;
        // Attributes kept in a values array belong to the type's shared keys.
        let shared = |values: u64| -> Option<u64> {
            let keys = self.word(ty + self.ol().ht_cached_keys as u64)?;
            let e = self.entries(keys)?;
            self.split_value(values, self.find_key(&e.keys, name)?)
        };
        match self.ol().instance_dict {
            InstanceDict::DictOffset => {
                let off = t.u64_at(TYPE_DICTOFFSET) as i64;
                if off <= 0 {
                    return None; // no __dict__, or a variable-size object (not a plain instance)
                }
                self.dict_get(self.word(obj + off as u64)?, name)
            }
            InstanceDict::Managed311 if managed => {
                let mut w = [0u8; 16];
                self.mem.read(obj - 32, &mut w).ok()?;
                let (values, dict) = (w.u64_at(0), w.u64_at(8));
                if dict != 0 { self.dict_get(dict, name) } else { shared(nonzero(values)?) }
            }
            InstanceDict::Tagged312 if managed => {
                let w = self.word(obj - 24)?;
                if w & 1 == 1 { shared(w + 1) } else { self.dict_get(nonzero(w)?, name) }
            }
            InstanceDict::Inline313 if managed => {
                let dict = self.word(obj - 24)?;
                if dict != 0 {
                    return self.dict_get(dict, name);
                }
                if flags & TPFLAGS_INLINE_VALUES == 0 || t.u64_at(TYPE_BASICSIZE) != 16 {
                    return None;
                }
                // PyDictValues header {capacity, size, embedded, valid}; values follow at +8.
                let mut h = [0u8; 4];
                self.mem.read(obj + 16, &mut h).ok()?;
                if h[3] == 0 {
                    return None;
                }
                shared(obj + 16)
            }
            _ => None,
        }
    }

    /// A non-negative int that fits in 64 bits (thread idents are pthread_t values).
    pub fn int(&self, addr: u64) -> Option<u64> {
        let mut b = [0u8; LONG_DIGITS + 12];
        self.mem.read(addr, &mut b).ok()?;
        let size = b.u64_at(16);
        let ndigits = if self.ol().long_tagged {
            if size & 3 == 2 {
                return None; // negative
            }
            size >> 3
        } else {
            if (size as i64) < 0 {
                return None;
            }
            size
        };
        if ndigits > 3 {
            return None;
        }
        let mut v: u128 = 0;
        for i in (0..ndigits as usize).rev() {
            v = (v << 30) | (b.u32_at(LONG_DIGITS + 4 * i) & 0x3fff_ffff) as u128;
        }
        u64::try_from(v).ok()
    }

    /// Value `i` of a split table's values array (3.13+ arrays start after a 4-byte header).
    fn split_value(&self, values: u64, i: usize) -> Option<u64> {
        let base = if self.ol().instance_dict == InstanceDict::Inline313 { values + 8 } else { values };
        nonzero(self.word(base + 8 * i as u64)?)
    }

    /// Reads a PyDictKeysObject's entries in one go.
    fn entries(&self, keys: u64) -> Option<Entries> {
        let mut h = [0u8; 40];
        self.mem.read(nonzero(keys)?, &mut h).ok()?;
        let (n, start, size, key_at) = match self.ol().dict_keys {
            DictKeys::Sized => {
                let slots = h.u64_at(8);
                if !slots.is_power_of_two() || slots > 4 * MAX_ENTRIES {
                    return None;
                }
                let width = if slots <= 0xff { 1 } else if slots <= 0xffff { 2 } else { 4 };
                (h.u64_at(32), keys + 40 + slots * width, 24, 8)
            }
            DictKeys::Log2 => {
                let index_bytes = h.u8_at(9);
                if index_bytes > 20 {
                    return None;
                }
                // Kind 0 (general) entries carry the hash first; str-only kinds do not.
                let (size, key_at) = if h.u8_at(10) == 0 { (24, 8) } else { (16, 0) };
                (h.u64_at(24), keys + 32 + (1u64 << index_bytes), size, key_at)
            }
        };
        if n > MAX_ENTRIES {
            return None;
        }
        let raw = self.mem.read_vec(start, n as usize * size).ok()?;
        let at = |i: usize, off: usize| raw.u64_at(i * size + off);
        Some(Entries {
            keys: (0..n as usize).map(|i| at(i, key_at)).collect(),
            values: (0..n as usize).map(|i| at(i, key_at + 8)).collect(),
        })
    }

    /// Index of the str key equal to the ASCII `name`: every key's header and first bytes
    /// come back in one batched read.
    fn find_key(&self, keys: &[u64], name: &str) -> Option<usize> {
        let head = self.layout.unicode_ascii_size;
        let want = head + name.len();
        let live: Vec<(usize, u64)> = keys.iter().copied().enumerate().filter(|&(_, k)| k != 0).collect();
        let regions: Vec<(u64, usize)> = live.iter().map(|&(_, k)| (k, want)).collect();
        let mut buf = Vec::new();
        if !self.mem.read_many(&regions, &mut buf).ok()? {
            // One short key at the very end of a mapping fails the batch: read them one by one.
            buf = vec![0; regions.len() * want];
            for (j, &(_, k)) in live.iter().enumerate() {
                let _ = self.mem.read(k, &mut buf[j * want..(j + 1) * want]);
            }
        }
        live.iter().enumerate().find_map(|(j, &(i, _))| {
            let b = &buf[j * want..(j + 1) * want];
            let compact_ascii = b.u32_at(UNICODE_STATE) & 0x60 == 0x60;
            (compact_ascii && b.u64_at(UNICODE_LENGTH) == name.len() as u64 && &b[head..] == name.as_bytes())
                .then_some(i)
        })
    }
}

fn nonzero(v: u64) -> Option<u64> {
    (v != 0).then_some(v)
}
