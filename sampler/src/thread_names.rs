//! Python thread names (`Thread.name`), read from the target's `threading._active`: the dict
//! that maps each running Thread's ident (`PyThreadState.thread_id`) to its Thread object.
//! Threads started without the threading module are not in it; they keep the OS name.

use crate::layout::MODULE_DICT;
use crate::objects::Objects;
use std::collections::HashMap;

#[derive(Default)]
pub struct ThreadNames {
    /// Address of the `_active` dict once found; the module keeps the same dict for life
    /// (even after fork it is cleared and refilled, not replaced).
    active: u64,
    by_ident: HashMap<u64, String>,
}

impl ThreadNames {
    /// Reads every name again. False when `threading` is not imported (yet) or the dict was
    /// being changed under us; the previous names stay.
    pub fn refresh(&mut self, objs: &Objects, interp: u64) -> bool {
        let read = |active: u64| (active != 0).then(|| read_names(objs, active)).flatten();
        let mut names = read(self.active);
        if names.is_none() {
            self.active = find_active(objs, interp).unwrap_or(0);
            names = read(self.active);
        }
        let Some(names) = names else { return false };
        self.by_ident = names;
        true
    }

    pub fn get(&self, ident: u64) -> Option<&str> {
        self.by_ident.get(&ident).map(String::as_str)
    }
}

/// sys.modules["threading"].__dict__["_active"]
fn find_active(objs: &Objects, interp: u64) -> Option<u64> {
    let threading = objs.dict_get(objs.sys_modules(interp)?, "threading")?;
    let globals = objs.word(threading + MODULE_DICT as u64)?;
    objs.dict_get(globals, "_active")
}

fn read_names(objs: &Objects, active: u64) -> Option<HashMap<u64, String>> {
    let mut names = HashMap::new();
    for (key, thread) in objs.dict_items(active)? {
        let ident = objs.int(key)?;
        if let Some(name) = objs.attr(thread, "_name").and_then(|s| objs.str(s)) {
            names.insert(ident, name);
        }
    }
    Some(names)
}
