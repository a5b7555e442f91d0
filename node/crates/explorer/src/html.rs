//! HTML building: escaping, the page shell every page shares, and the rendering of an RPC JSON
//! answer as definition lists and tables, with addresses and hashes linked to their pages.

use serde_json::Value;
use std::fmt::Write;

/// `s` with `& < > " '` escaped: safe as element text and inside a quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: the header with the search box, then `content` (already HTML) in `<main>`,
/// then `scripts`.
pub fn shell(title: &str, content: &str, scripts: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{title} · AITBC explorer</title>\
<link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/explorer/assets/explorer.css\"></head>\
<body><header class=\"top\"><a class=\"brand\" href=\"/explorer\">AITBC explorer</a>\
<form class=\"search\" role=\"search\" action=\"/explorer/search\" method=\"get\">\
<input type=\"search\" name=\"q\" aria-label=\"Search by height, hash, address or receipt id\" \
placeholder=\"Height, hash, address or receipt id\"><button type=\"submit\">Search</button></form>\
</header><main id=\"main\">{content}</main>{scripts}</body></html>",
        title = escape(title),
    )
}

/// A `<section class="card">` with a heading.
pub fn card(title: &str, body: &str) -> String {
    format!(
        "<section class=\"card\"><h2>{}</h2>{body}</section>",
        escape(title)
    )
}

/// A link to an explorer page, its text a `<code class="hash">`.
pub fn code_link(href: &str, text: &str) -> String {
    format!(
        "<a href=\"{}\"><code class=\"hash\">{}</code></a>",
        escape(href),
        escape(text)
    )
}

/// The explorer page a string value links to, judged by its field name and form: addresses
/// link to their account, block and transaction hashes and receipt ids to theirs. A field
/// named `hash` is the page's own object and links nowhere.
fn link_for(key: &str, s: &str) -> Option<String> {
    if s.starts_with("ait1") {
        return Some(format!("/explorer/account/{s}"));
    }
    if !s.starts_with("0x") {
        return None;
    }
    match key {
        "parent_hash" | "block_hash" | "finalized_hash" => Some(format!("/explorer/block/{s}")),
        "tx_hash" | "transactions" => Some(format!("/explorer/tx/{s}")),
        "receipt_id" => Some(format!("/explorer/receipt/{s}")),
        _ => None,
    }
}

/// A scalar value as HTML: linked where [`link_for`] says, hashes in `<code>`, booleans as
/// badges for `success` and `finalized`.
fn scalar(key: &str, v: &Value) -> String {
    match v {
        Value::Null => "—".to_string(),
        Value::Bool(b) => match (key, b) {
            ("success", true) => "<span class=\"badge ok\">success</span>".to_string(),
            ("success", false) => "<span class=\"badge fail\">failed</span>".to_string(),
            ("finalized", true) => "<span class=\"badge final\">finalized</span>".to_string(),
            ("finalized", false) => {
                "<span class=\"badge pending\">not finalized</span>".to_string()
            }
            (_, b) => if *b { "yes" } else { "no" }.to_string(),
        },
        Value::Number(n) if key == "block_height" => {
            format!("<a href=\"/explorer/block/{n}\">{n}</a>")
        }
        Value::Number(n) if key == "timestamp_ms" => match n.as_u64() {
            Some(ms) => format!("{} <small>({ms} ms)</small>", utc(ms)),
            None => n.to_string(),
        },
        Value::Number(n) => n.to_string(),
        Value::String(s) => match link_for(key, s) {
            Some(href) => code_link(&href, s),
            None if s.starts_with("0x") || s.starts_with("ait1") => {
                format!("<code class=\"hash\">{}</code>", escape(s))
            }
            None => escape(s),
        },
        Value::Array(_) | Value::Object(_) => value(key, v),
    }
}

/// Any JSON value as HTML: objects as definition lists, arrays of objects as tables, other
/// arrays as lists.
pub fn value(key: &str, v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut out = String::from("<dl class=\"fields\">");
            for (k, v) in map {
                let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), value(k, v));
            }
            out.push_str("</dl>");
            out
        }
        Value::Array(items) if items.is_empty() => "none".to_string(),
        Value::Array(items) if items.iter().all(Value::is_object) => table(items),
        Value::Array(items) => {
            let mut out = String::from("<ul class=\"plain\">");
            for item in items {
                let _ = write!(out, "<li>{}</li>", scalar(key, item));
            }
            out.push_str("</ul>");
            out
        }
        scalar_value => scalar(key, scalar_value),
    }
}

/// Rows of objects as a table whose columns are their keys, in first-seen order.
pub fn table(rows: &[Value]) -> String {
    let mut columns: Vec<&str> = Vec::new();
    for row in rows {
        for k in row.as_object().into_iter().flat_map(|m| m.keys()) {
            if !columns.contains(&k.as_str()) {
                columns.push(k);
            }
        }
    }
    let mut out = String::from("<div class=\"scroll\"><table class=\"data\"><thead><tr>");
    for c in &columns {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(c));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for c in &columns {
            let cell = row.get(*c).map_or(String::new(), |v| value(c, v));
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// An object's fields as a definition list: those named in `first` in that order, then the
/// rest in key order, without those named in `skip`.
pub fn fields(v: &Value, first: &[&str], skip: &[&str]) -> String {
    let Some(map) = v.as_object() else {
        return value("", v);
    };
    let rest = map
        .keys()
        .map(String::as_str)
        .filter(|k| !first.contains(k));
    let mut out = String::from("<dl class=\"fields\">");
    for k in first.iter().copied().chain(rest) {
        if let (Some(v), false) = (map.get(k), skip.contains(&k)) {
            let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), value(k, v));
        }
    }
    out.push_str("</dl>");
    out
}

/// `"Module.Name"` of an event as the RPC writes it (`{"Module": {"Name": {…}}}`), and its data.
pub fn event_parts(event: &Value) -> Option<(String, &Value)> {
    let (module, inner) = event.as_object()?.iter().next()?;
    let (name, data) = inner.as_object()?.iter().next()?;
    Some((format!("{module}.{name}"), data))
}

/// Events, each as its name and its fields.
pub fn events(list: &Value) -> String {
    let items = list.as_array().map(Vec::as_slice).unwrap_or_default();
    if items.is_empty() {
        return "<p>None.</p>".to_string();
    }
    let mut out = String::from("<ol class=\"events\">");
    for e in items {
        match event_parts(e) {
            Some((name, data)) => {
                let _ = write!(
                    out,
                    "<li><h3>{}</h3>{}</li>",
                    escape(&name),
                    value("", data)
                );
            }
            None => {
                let _ = write!(out, "<li>{}</li>", value("", e));
            }
        }
    }
    out.push_str("</ol>");
    out
}

/// Milliseconds since the epoch as `YYYY-MM-DD hh:mm:ss UTC` (the proleptic Gregorian
/// calendar, from days since 1970-01-01).
pub fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
