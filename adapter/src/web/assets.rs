//! The page's files, embedded in the binary (no bundler, no files to install).

pub const INDEX: &str = include_str!("../../web/index.html");

const FILES: &[(&str, &str, &str)] = &[
    ("style.css", "text/css; charset=utf-8", include_str!("../../web/style.css")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../../web/app.js")),
    ("data.js", "text/javascript; charset=utf-8", include_str!("../../web/data.js")),
    ("tree.js", "text/javascript; charset=utf-8", include_str!("../../web/tree.js")),
    ("flame.js", "text/javascript; charset=utf-8", include_str!("../../web/flame.js")),
    ("timeview.js", "text/javascript; charset=utf-8", include_str!("../../web/timeview.js")),
    ("source.js", "text/javascript; charset=utf-8", include_str!("../../web/source.js")),
];

pub fn get(name: &str) -> Option<(&'static str, &'static str)> {
    FILES.iter().find(|(n, _, _)| *n == name).map(|(_, mime, body)| (*mime, *body))
}
