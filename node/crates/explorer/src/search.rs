//! The search box: a decimal height, a `0x` hash (a block, else a transaction, else a receipt
//! id) or an `ait1…` address goes to its page (303); anything else, or an id the chain does
//! not know, is the 404 page.

use crate::pages::not_found;
use crate::{Page, Rpc};

/// The percent-decoded value of `name` in a URL query string (`+` is a space, as forms send
/// it); empty when absent. Bytes that do not decode to UTF-8 are replaced.
pub fn query_param(query: &str, name: &str) -> String {
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == name {
            return percent_decode(v);
        }
    }
    String::new()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Where a search for `q` leads.
pub fn search(q: &str, rpc: &dyn Rpc) -> Page {
    let q = q.trim();
    if q.is_empty() {
        return Page::redirect("/explorer".to_string());
    }
    let candidates: &[(&str, &str)] = if q.bytes().all(|b| b.is_ascii_digit()) {
        &[("/rpc/getBlock/", "/explorer/block/")]
    } else if q.starts_with("ait1") {
        &[("/rpc/getBalance/", "/explorer/account/")]
    } else if q.starts_with("0x") {
        &[
            ("/rpc/getBlock/", "/explorer/block/"),
            ("/rpc/getTx/", "/explorer/tx/"),
            ("/rpc/getReceipt/", "/explorer/receipt/"),
        ]
    } else {
        &[]
    };
    // Only URL-safe ids reach a route: every form above is ASCII letters and digits.
    if q.bytes().all(|b| b.is_ascii_alphanumeric()) {
        for (rpc_path, page) in candidates {
            if rpc.get(&format!("{rpc_path}{q}")).is_ok() {
                return Page::redirect(format!("{page}{q}"));
            }
        }
    }
    not_found(format!(
        "Nothing matches {q:?}. Search for a block height, a block or transaction hash (0x…), \
         a receipt id (0x…) or an address (ait1…)."
    ))
}

/// The account page's job form (`/explorer/job?client=…&id=…`): the job's page, or the 404 page
/// for an id that is not a number.
pub fn job_form(query: &str) -> Page {
    let client = query_param(query, "client");
    let id = query_param(query, "id");
    let id = id.trim();
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok(&client) && ok(id) && id.bytes().all(|b| b.is_ascii_digit()) {
        return Page::redirect(format!("/explorer/job/{client}/{id}"));
    }
    not_found(format!(
        "No job {id:?} of {client:?}: a job id is a number."
    ))
}
