//! The explorer against a fake RPC: pages, statuses, links, escaping, search.

use super::*;
use serde_json::json;
use std::collections::BTreeMap;

const BLOCK_HASH: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
const TX_HASH: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";
const RECEIPT: &str = "0x3333333333333333333333333333333333333333333333333333333333333333";
const BOB: &str = "ait1bob";

struct FakeRpc(BTreeMap<String, Result<Value, Failure>>);

impl Rpc for FakeRpc {
    fn get(&self, path: &str) -> Result<Value, Failure> {
        self.0.get(path).cloned().unwrap_or(Err(Failure {
            status: 404,
            message: format!("{path} not found"),
        }))
    }
}

fn rpc() -> FakeRpc {
    let block = json!({ "height": 7, "hash": BLOCK_HASH, "parent_hash": BLOCK_HASH,
        "transactions": [TX_HASH], "author": BOB, "finalized": true });
    let mut m = BTreeMap::new();
    m.insert("/rpc/getBlock/7".to_string(), Ok(block.clone()));
    m.insert(format!("/rpc/getBlock/{BLOCK_HASH}"), Ok(block));
    m.insert(
        "/rpc/getBlockEvents/7".to_string(),
        Ok(
            json!({ "height": 7, "events": [{ "tx_hash": TX_HASH, "index": 0, "success": true,
            "signer": BOB, "call": { "type": "TRANSFER" }, "fee": "214",
            "events": [{ "Balances": { "Transfer": { "from": BOB, "amount": "12345" } } }] }] }),
        ),
    );
    m.insert(
        format!("/rpc/getTx/{TX_HASH}"),
        Ok(
            json!({ "hash": TX_HASH, "status": "finalized", "signer": BOB,
                   "memo": "<script>alert(1)</script>", "events": [] }),
        ),
    );
    m.insert(
        format!("/rpc/getBalance/{BOB}"),
        Ok(json!({ "address": BOB, "balance": "1012345", "nonce": 3 })),
    );
    m.insert(
        "/rpc/getBalance/ait1bad".to_string(),
        Err(Failure {
            status: 400,
            message: "invalid address".to_string(),
        }),
    );
    m.insert(
        "/rpc/getBlock/8".to_string(),
        Err(Failure {
            status: 503,
            message: "database busy".to_string(),
        }),
    );
    m.insert(
        format!("/rpc/getReceipt/{RECEIPT}"),
        Ok(json!({ "miner": BOB, "units": 5 })),
    );
    m.insert("/rpc/getHead".to_string(), Ok(json!({ "height": 7 })));
    FakeRpc(m)
}

fn text(p: &Page) -> String {
    String::from_utf8(p.body.clone()).expect("utf-8 page")
}

#[test]
fn the_dashboard_is_served_at_the_root_and_under_explorer() {
    for path in ["/", "/explorer", "/explorer/"] {
        let p = serve(path, None, &rpc());
        assert_eq!(p.status, 200, "{path}");
        let body = text(&p);
        assert!(body.contains("/explorer/assets/dashboard.js"), "{path}");
        assert!(body.contains("id=\"best-height\""), "{path}");
    }
}

#[test]
fn assets_are_embedded_small_and_typed() {
    let css = serve("/explorer/assets/explorer.css", None, &rpc());
    assert_eq!(
        (css.status, css.content_type),
        (200, "text/css; charset=utf-8")
    );
    assert!(css.cacheable);
    let js = serve("/explorer/assets/dashboard.js", None, &rpc());
    assert_eq!(js.status, 200);
    assert!(js.content_type.starts_with("text/javascript"));
    assert_eq!(serve("/explorer/assets/nope.js", None, &rpc()).status, 404);
    let total =
        assets::DASHBOARD_HTML.len() + assets::FILES.iter().map(|(_, _, b)| b.len()).sum::<usize>();
    assert!(total < 300 * 1024, "embedded assets are {total} bytes");
}

#[test]
fn a_block_page_shows_its_header_and_transactions_with_links() {
    for id in ["7", BLOCK_HASH] {
        let p = serve(&format!("/explorer/block/{id}"), None, &rpc());
        assert_eq!(p.status, 200);
        let body = text(&p);
        assert!(body.contains("<h1>Block #7</h1>"));
        assert!(body.contains(&format!("href=\"/explorer/tx/{TX_HASH}\"")));
        assert!(
            body.contains(&format!("href=\"/explorer/block/{BLOCK_HASH}\"")),
            "parent linked"
        );
        assert!(body.contains("href=\"/explorer/account/ait1bob\""));
        assert!(body.contains("badge final"));
        assert!(body.contains("href=\"/explorer/block/6\""));
        // Block 7 is the head: no next block to link.
        assert!(!body.contains("href=\"/explorer/block/8\""));
    }
    // The hash form has no stored events in the fake: the hashes alone are listed.
    let body = text(&serve(
        &format!("/explorer/block/{BLOCK_HASH}"),
        None,
        &rpc(),
    ));
    assert!(body.contains(&format!("href=\"/explorer/tx/{TX_HASH}\"")));
}

#[test]
fn unknown_and_malformed_ids_are_404_pages_and_other_failures_keep_their_status() {
    for path in [
        "/explorer/block/99",
        "/explorer/tx/0xdead",
        "/explorer/account/ait1bad",
        "/explorer/receipt/0x00",
        "/explorer/job/ait1bob/1",
        "/explorer/nonsense",
        "/explorer/block/1/2/3",
    ] {
        let p = serve(path, None, &rpc());
        assert_eq!(p.status, 404, "{path}");
        assert!(
            text(&p).contains("<section class=\"notfound\"><h1>Not found</h1>"),
            "{path}"
        );
    }
    let p = serve("/explorer/block/8", None, &rpc());
    assert_eq!(p.status, 503);
    assert!(text(&p).contains("database busy"));
}

#[test]
fn everything_from_the_chain_or_the_url_is_escaped() {
    let body = text(&serve(&format!("/explorer/tx/{TX_HASH}"), None, &rpc()));
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!body.contains("<script>alert(1)"));
    let body = text(&serve("/explorer/search", Some("q=%3Cb%3Ex"), &rpc()));
    assert!(body.contains("&lt;b&gt;x"));
    assert!(!body.contains("<b>x"));
}

#[test]
fn the_account_page_shows_the_balance() {
    let p = serve(&format!("/explorer/account/{BOB}"), None, &rpc());
    assert_eq!(p.status, 200);
    assert!(text(&p).contains("1012345"));
}

#[test]
fn search_redirects_to_the_page_of_what_it_finds() {
    let go = |q: &str| serve("/explorer/search", Some(&format!("q={q}")), &rpc());
    assert_eq!(go("7").location.as_deref(), Some("/explorer/block/7"));
    assert_eq!(
        go("+7+").location.as_deref(),
        Some("/explorer/block/7"),
        "trimmed"
    );
    assert_eq!(
        go(BLOCK_HASH).location,
        Some(format!("/explorer/block/{BLOCK_HASH}"))
    );
    assert_eq!(
        go(TX_HASH).location,
        Some(format!("/explorer/tx/{TX_HASH}"))
    );
    assert_eq!(
        go(RECEIPT).location,
        Some(format!("/explorer/receipt/{RECEIPT}"))
    );
    assert_eq!(go(BOB).location, Some(format!("/explorer/account/{BOB}")));
    assert_eq!(go(BOB).status, 303);
    for garbage in ["hello", "ait1bad", "0x44", "99", "%ZZ", "%E2%82", "a%2Fb"] {
        let p = go(garbage);
        assert_eq!((p.status, p.location.clone()), (404, None), "{garbage}");
    }
    assert_eq!(
        serve("/explorer/search", None, &rpc()).location.as_deref(),
        Some("/explorer")
    );
}

#[test]
fn query_params_are_percent_decoded() {
    assert_eq!(search::query_param("a=1&q=x%20y+z", "q"), "x y z");
    assert_eq!(search::query_param("q=%zz%4", "q"), "%zz%4");
    assert_eq!(search::query_param("q", "q"), "");
    assert_eq!(search::query_param("", "q"), "");
}

#[test]
fn timestamps_are_shown_in_utc() {
    assert_eq!(html::utc(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(html::utc(1_796_675_249_000), "2026-12-07 20:27:29 UTC");
    // A leap day.
    assert_eq!(html::utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
}

#[test]
fn a_blocks_transactions_are_one_row_each_with_their_events_named() {
    let body = text(&serve("/explorer/block/7", None, &rpc()));
    assert!(body.contains("<td>Balances.Transfer</td>"), "{body}");
    assert!(body.contains("badge ok"));
    assert!(body.contains("<td>TRANSFER</td><td>214</td>"), "{body}");
}

#[test]
fn the_account_pages_job_form_leads_to_the_job() {
    let body = text(&serve(&format!("/explorer/account/{BOB}"), None, &rpc()));
    assert!(body.contains("action=\"/explorer/job\""));
    let p = serve(
        "/explorer/job",
        Some(&format!("client={BOB}&id=+42+")),
        &rpc(),
    );
    assert_eq!(p.location, Some(format!("/explorer/job/{BOB}/42")));
    for bad in [
        "client=ait1bob&id=x",
        "client=ait1bob",
        "id=4",
        "client=a%2Fb&id=4",
    ] {
        assert_eq!(
            serve("/explorer/job", Some(bad), &rpc()).status,
            404,
            "{bad}"
        );
    }
}
