//! The pages: the dashboard's shell (its data comes live from the RPC through
//! `assets/dashboard.js`) and the server-rendered block, transaction, account, job and receipt
//! pages, each built from the RPC answers that show its object.

use crate::html::{self, card, code_link, escape, fields, shell};
use crate::{assets, Failure, Page, Rpc};
use serde_json::Value;

/// A block page lists at most this many transactions (a flood's block holds thousands; each
/// is one `getTx` away).
const MAX_BLOCK_ROWS: usize = 1000;

pub fn dashboard() -> String {
    shell(
        "Dashboard",
        assets::DASHBOARD_HTML,
        "<script src=\"/explorer/assets/dashboard.js\" defer></script>",
    )
}

/// HTTP 404 with a `.notfound` section saying what was looked for.
pub fn not_found(what: String) -> Page {
    let body = format!(
        "<section class=\"notfound\"><h1>Not found</h1><p>{}</p>\
<p><a href=\"/explorer\">Back to the dashboard</a></p></section>",
        escape(&what)
    );
    Page::html(404, shell("Not found", &body, ""))
}

/// The page for a failed lookup of `what`: not found for the RPC's 404 and 400 (no such
/// object, or a malformed id), else an error page with the RPC's status.
fn failed(what: &str, f: Failure) -> Page {
    if matches!(f.status, 400 | 404) {
        return not_found(format!("No {what}: {}", f.message));
    }
    let body = format!(
        "<section class=\"notfound\"><h1>Error {}</h1><p>Looking up {}: {}</p></section>",
        f.status,
        escape(what),
        escape(&f.message)
    );
    Page::html(f.status, shell("Error", &body, ""))
}

/// Fetches `path`, or the failure page for `what`.
fn lookup(rpc: &dyn Rpc, path: &str, what: &str) -> Result<Value, Page> {
    rpc.get(path).map_err(|f| failed(what, f))
}

fn page(title: &str, content: String) -> Page {
    Page::html(200, shell(title, &content, ""))
}

pub fn block(id: &str, rpc: &dyn Rpc) -> Page {
    let what = format!("block {id}");
    let block = match lookup(rpc, &format!("/rpc/getBlock/{id}"), &what) {
        Ok(b) => b,
        Err(p) => return p,
    };
    let height = block.get("height").and_then(Value::as_u64).unwrap_or(0);
    let tx_count = block
        .get("transactions")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    // Outcomes are kept for the best chain's blocks; for another block, its hashes only.
    let txs = match rpc.get(&format!("/rpc/getBlockEvents/{id}")) {
        Ok(ev) => transactions_table(ev.get("events").unwrap_or(&Value::Null)),
        Err(_) => html::value(
            "transactions",
            block.get("transactions").unwrap_or(&Value::Null),
        ),
    };
    let best = rpc
        .get("/rpc/getHead")
        .ok()
        .and_then(|h| h.get("height").and_then(Value::as_u64));
    let link = |h: u64, text: &str| format!("<a href=\"/explorer/block/{h}\">{text}</a> ");
    let nav = format!(
        "<nav class=\"pager\" aria-label=\"Neighbouring blocks\">{}{}</nav>",
        if height > 0 {
            link(height - 1, "Previous block")
        } else {
            String::new()
        },
        if best.is_some_and(|b| height < b) {
            link(height + 1, "Next block")
        } else {
            String::new()
        },
    );
    page(
        &format!("Block #{height}"),
        format!(
            "<h1>Block #{height}</h1>{nav}{}{}",
            card(
                "Header",
                &fields(
                    &block,
                    &[
                        "height",
                        "hash",
                        "parent_hash",
                        "author",
                        "finalized",
                        "timestamp_ms"
                    ],
                    &["transactions"],
                )
            ),
            card(&format!("Transactions ({tx_count})"), &txs)
        ),
    )
}

/// A block's transactions (its `getBlockEvents` entries): position, hash, signer, call, fee,
/// result and the names of its events; at most [`MAX_BLOCK_ROWS`].
fn transactions_table(entries: &Value) -> String {
    let rows = entries.as_array().map(Vec::as_slice).unwrap_or_default();
    if rows.is_empty() {
        return "<p>No transactions.</p>".to_string();
    }
    let mut out = String::from(
        "<div class=\"scroll\"><table class=\"data\"><thead><tr><th scope=\"col\">#</th>\
<th scope=\"col\">Transaction</th><th scope=\"col\">Signer</th><th scope=\"col\">Call</th>\
<th scope=\"col\">Fee</th><th scope=\"col\">Result</th><th scope=\"col\">Events</th></tr></thead><tbody>",
    );
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    for e in rows.iter().take(MAX_BLOCK_ROWS) {
        let hash = text(e, "tx_hash");
        let signer = text(e, "signer");
        let names: Vec<String> = e
            .get("events")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|ev| html::event_parts(ev).map(|(name, _)| name))
            .collect();
        let result = match e.get("success").and_then(Value::as_bool) {
            Some(true) => "<span class=\"badge ok\">success</span>".to_string(),
            Some(false) => format!(
                "<span class=\"badge fail\">failed</span> {}",
                escape(&text(e, "error"))
            ),
            None => String::new(),
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{result}</td><td>{}</td></tr>",
            e.get("index").and_then(Value::as_u64).unwrap_or(0),
            code_link(&format!("/explorer/tx/{hash}"), &hash),
            code_link(&format!("/explorer/account/{signer}"), &signer),
            escape(e.pointer("/call/type").and_then(Value::as_str).unwrap_or("")),
            escape(&text(e, "fee")),
            escape(&names.join(", ")),
        ));
    }
    out.push_str("</tbody></table></div>");
    if rows.len() > MAX_BLOCK_ROWS {
        out.push_str(&format!(
            "<p>The first {MAX_BLOCK_ROWS} of {} transactions.</p>",
            rows.len()
        ));
    }
    out
}

pub fn tx(hash: &str, rpc: &dyn Rpc) -> Page {
    let tx = match lookup(
        rpc,
        &format!("/rpc/getTx/{hash}"),
        &format!("transaction {hash}"),
    ) {
        Ok(t) => t,
        Err(p) => return p,
    };
    let events = tx.get("events").cloned().unwrap_or(Value::Null);
    page(
        "Transaction",
        format!(
            "<h1>Transaction</h1><p><code class=\"hash\">{}</code></p>{}{}",
            escape(hash),
            card(
                "Transaction",
                &fields(
                    &tx,
                    &[
                        "status",
                        "success",
                        "error",
                        "block_height",
                        "block_hash",
                        "index",
                        "signer",
                        "nonce",
                        "call",
                        "fee"
                    ],
                    &["events", "hash"],
                )
            ),
            card("Events", &html::events(&events))
        ),
    )
}

pub fn account(address: &str, rpc: &dyn Rpc) -> Page {
    let what = format!("account {address}");
    let balance = match lookup(rpc, &format!("/rpc/getBalance/{address}"), &what) {
        Ok(b) => b,
        Err(p) => return p,
    };
    let staking = match rpc.get(&format!("/rpc/getStaking/{address}")) {
        Ok(s) => html::value("", &s),
        Err(f) => format!("<p>{}</p>", escape(&f.message)),
    };
    // Jobs are stored by (client, id): the node can look one up, not list them (the PostgreSQL
    // indexer's `jobs` table does).
    let jobs = format!(
        "<form class=\"lookup\" action=\"/explorer/job\" method=\"get\">\
<input type=\"hidden\" name=\"client\" value=\"{}\">\
<label>Job id <input name=\"id\" inputmode=\"numeric\" required></label>\
<button type=\"submit\">Look up</button></form>\
<p>A job of this account by its id; the indexer's <code>jobs</code> table lists them all.</p>",
        escape(address)
    );
    page(
        "Account",
        format!(
            "<h1>Account</h1><p><code class=\"hash\">{}</code></p>{}{}{}",
            escape(address),
            card(
                "Balance",
                &fields(&balance, &["balance", "nonce"], &["address"])
            ),
            card("Staking", &staking),
            card("Jobs", &jobs)
        ),
    )
}

pub fn job(client: &str, id: &str, rpc: &dyn Rpc) -> Page {
    let what = format!("job {id} of {client}");
    match lookup(rpc, &format!("/rpc/getJob/{client}/{id}"), &what) {
        Ok(job) => page(
            &format!("Job {id}"),
            format!(
                "<h1>Job {}</h1>{}",
                escape(id),
                card("Job", &html::value("", &job))
            ),
        ),
        Err(p) => p,
    }
}

pub fn receipt(id: &str, rpc: &dyn Rpc) -> Page {
    let what = format!("receipt {id}");
    match lookup(rpc, &format!("/rpc/getReceipt/{id}"), &what) {
        Ok(r) => page(
            "Receipt",
            format!(
                "<h1>Receipt</h1><p><code class=\"hash\">{}</code></p>{}",
                escape(id),
                card("Receipt", &html::value("", &r))
            ),
        ),
        Err(p) => p,
    }
}
