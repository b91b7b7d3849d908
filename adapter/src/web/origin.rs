//! Where a function's file comes from, for the page's colours: the user's project, the
//! standard library, an installed package (site-packages), or something else (`<string>`,
//! frozen modules outside the stdlib, native code).

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Origin {
    Project = 0,
    Stdlib = 1,
    Package = 2,
    Other = 3,
}

pub fn classify(file: &str, root: &Path) -> Origin {
    let f = file.replace('\\', "/");
    if f.contains("/site-packages/") || f.contains("/dist-packages/") {
        return Origin::Package;
    }
    if f.starts_with("<frozen ") {
        return Origin::Stdlib;
    }
    if f.starts_with('<') || f.is_empty() {
        return Origin::Other;
    }
    let is_stdlib_dir = f.split('/').collect::<Vec<_>>().windows(2).any(|w| {
        w[0] == "lib" && (w[1].starts_with("python3") || w[1].starts_with("python2") || w[1] == "python")
    });
    if is_stdlib_dir {
        return Origin::Stdlib;
    }
    let p = Path::new(file);
    if p.is_relative() || p.starts_with(root) {
        return Origin::Project;
    }
    Origin::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_common_paths() {
        let root = Path::new("/home/u/proj");
        assert_eq!(classify("/home/u/proj/app/main.py", root), Origin::Project);
        assert_eq!(classify("app/main.py", root), Origin::Project);
        assert_eq!(classify("/usr/lib/python3.12/json/decoder.py", root), Origin::Stdlib);
        assert_eq!(classify("<frozen importlib._bootstrap>", root), Origin::Stdlib);
        assert_eq!(classify("/home/u/proj/.venv/lib/python3.12/site-packages/numpy/core.py", root), Origin::Package);
        assert_eq!(classify("/usr/lib/python3/dist-packages/yaml/x.py", root), Origin::Package);
        assert_eq!(classify("<string>", root), Origin::Other);
        assert_eq!(classify("/opt/other/thing.py", root), Origin::Other);
    }
}
