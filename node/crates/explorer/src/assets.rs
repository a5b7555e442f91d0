//! The files of `assets/`, embedded in the binary: the stylesheet, the dashboard's HTML
//! fragment (inserted into the page shell) and its script.

use crate::Page;

/// The dashboard's content, inside `<main>`.
pub const DASHBOARD_HTML: &str = include_str!("../assets/dashboard.html");

/// Every file served under `/explorer/assets/`: name, content type, bytes.
pub(crate) const FILES: &[(&str, &str, &[u8])] = &[
    (
        "explorer.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/explorer.css"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/dashboard.js"),
    ),
];

/// The asset `name`, if there is one.
pub fn get(name: &str) -> Option<Page> {
    FILES
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, ct, bytes)| Page {
            status: 200,
            content_type: ct,
            body: bytes.to_vec(),
            location: None,
            cacheable: true,
        })
}
