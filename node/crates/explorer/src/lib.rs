//! # aitbc-explorer
//!
//! The block explorer the node serves on its RPC address: `GET /` (and `/explorer`) is the
//! dashboard; `/explorer/block/{heightOrHash}`, `/explorer/tx/{hash}`,
//! `/explorer/account/{address}`, `/explorer/job/{client}/{id}` and `/explorer/receipt/{id}`
//! are pages rendered on the server, so they read the same with JavaScript off;
//! `/explorer/search?q=…` redirects (303) to the page of a height, hash, address or receipt id;
//! `/explorer/assets/{file}` are the stylesheet and the dashboard's script, embedded in the
//! binary (no CDN, nothing fetched at run time).
//!
//! # Invariants
//! - **One source of truth.** Every page is built from the RPC's own JSON answers, fetched
//!   through [`Rpc`] (the server answers them in-process through its route table), so a page
//!   never shows what `GET /rpc/...` would not.
//! - **Not found is a page, never a blank.** When a page's object does not exist or its id is
//!   malformed (the RPC's 404 or 400), the answer is HTTP 404 with a `.notfound` section saying
//!   what was looked for; any other RPC failure is shown with its status.
//! - **Everything from the chain or the URL is escaped** ([`html::escape`]) before it reaches
//!   the page.
//!
//! This crate does no I/O: [`serve`] maps a request to a [`Page`], which the RPC server sends.

mod assets;
mod html;
mod pages;
mod search;

use serde_json::Value;

/// A failed RPC lookup: the HTTP status the route answered and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: u16,
    pub message: String,
}

/// The RPC's GET routes, answered in-process: `path` is a route path such as
/// `/rpc/getBlock/7`.
pub trait Rpc {
    fn get(&self, path: &str) -> Result<Value, Failure>;
}

/// What the server sends for an explorer request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// The `Location` of a redirect (status 303).
    pub location: Option<String>,
    /// Embedded assets may be cached; pages show the chain's latest state and may not.
    pub cacheable: bool,
}

impl Page {
    fn html(status: u16, body: String) -> Page {
        Page {
            status,
            content_type: "text/html; charset=utf-8",
            body: body.into_bytes(),
            location: None,
            cacheable: false,
        }
    }

    fn redirect(to: String) -> Page {
        Page {
            status: 303,
            content_type: "text/plain; charset=utf-8",
            body: format!("see {to}\n").into_bytes(),
            location: Some(to),
            cacheable: false,
        }
    }
}

/// The path templates the RPC server routes here (its route table's syntax: `{x}` is one
/// segment).
pub const ROUTES: &[&str] = &[
    "/",
    "/explorer",
    "/explorer/{page}",
    "/explorer/{page}/{id}",
    "/explorer/{page}/{client}/{id}",
];

/// Answers the explorer request for `path` (with the URL's `query` string, if any).
pub fn serve(path: &str, query: Option<&str>, rpc: &dyn Rpc) -> Page {
    let trimmed = path.trim_end_matches('/');
    let rest = trimmed.strip_prefix("/explorer").unwrap_or(trimmed);
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => Page::html(200, pages::dashboard()),
        ["assets", name] => assets::get(name)
            .unwrap_or_else(|| pages::not_found(format!("There is no explorer asset {:?}.", name))),
        ["search"] => search::search(&search::query_param(query.unwrap_or(""), "q"), rpc),
        ["job"] => search::job_form(query.unwrap_or("")),
        ["block", id] => pages::block(id, rpc),
        ["tx", hash] => pages::tx(hash, rpc),
        ["account", address] => pages::account(address, rpc),
        ["job", client, id] => pages::job(client, id, rpc),
        ["receipt", id] => pages::receipt(id, rpc),
        _ => pages::not_found(format!("There is no explorer page {}.", path)),
    }
}

#[cfg(test)]
mod tests;
