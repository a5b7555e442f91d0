#!/usr/bin/env python3
"""Real-browser test of the node's built-in block explorer (Playwright for Python driving Debian's
Chromium at /usr/bin/chromium; never `playwright install`).

    scripts/explorer_test.py --rpc http://127.0.0.1:9080 --node-bin target/release/aitbc-node \
                             --screenshots DIR [--no-claim]

Needs a running `--dev` node at --rpc (//alice funded and authoring). It sends a transfer (and,
unless --no-claim, opens a job and claims its receipt through a mock coordinator it starts on a
free port) and checks:
  (a) the dashboard's best and finalized heights equal getHead's (within 10 s);
  (b) the transfer's hash shows in #recent-txs within 2 s of the CLI returning (finalized) and
      /explorer/account/BOB shows getBalance's balance; the claim shows in #recent-claims;
  (c) search by height, block hash, tx hash, address (and receipt id) lands on the right page;
      garbage, an unknown 0x hash and a malformed ait1 address answer the 404 page;
  (d) every page type renders with JavaScript disabled;
  (e) the dashboard's first contentful paint is under 1000 ms;
  (f) the throughput charts plot the blocks/s and tx/s series (a line with points, a non-zero
      blocks/s maximum) once blocks have arrived, and the blocks/s line still ends above zero
      after the next head.
Full-page screenshots of each page go to --screenshots. Prints PASS/FAIL lines and a closing
'N passed, N failed' line; exits 1 on any failure.
"""
import argparse
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from playwright.sync_api import Error as PWError
from playwright.sync_api import TimeoutError as PWTimeout
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

passed, failed = 0, 0


def check(name, ok, detail=""):
    global passed, failed
    detail = " ".join(str(detail).split())
    if ok:
        passed += 1
        print(f"PASS {name}" + (f": {detail}" if detail else ""), flush=True)
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok


class Env:
    def __init__(self, rpc, node_bin, shots):
        self.rpc = rpc.rstrip("/")
        self.node_bin = node_bin
        self.shots = shots

    def get(self, path, timeout=5):
        """(status, body bytes) of GET path on the node."""
        try:
            with urllib.request.urlopen(self.rpc + path, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def json(self, path):
        status, body = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}: {body[:200]!r}")
        return json.loads(body)

    def cli(self, *args, timeout=90):
        """Runs NODE_BIN ARGS; answers its stdout parsed as JSON."""
        t0 = time.monotonic()
        p = subprocess.run([self.node_bin, *args], capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} exited {p.returncode} after "
                               f"{time.monotonic() - t0:.1f} s: {p.stderr.strip()[-500:]}")
        return json.loads(p.stdout.strip().splitlines()[-1])

    def shot(self, page, name):
        path = os.path.join(self.shots, name)
        try:
            page.screenshot(path=path, full_page=True, timeout=15000)
            print(f"  screenshot {path}", flush=True)
        except PWError as e:
            check(f"screenshot {name}", False, str(e).splitlines()[0])


def digits_of(text):
    d = re.sub(r"\D", "", text or "")
    return int(d) if d else None


def norm_digits(text):
    """Page text with thousands separators between digits removed (',', '_', thin spaces)."""
    return re.sub(r"(?<=\d)[,_\u2009\u202f\u00a0 ](?=\d{3})", "", text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def goto(page, url, timeout=10000):
    """Navigates; answers the main response (None on failure)."""
    try:
        return page.goto(url, wait_until="load", timeout=timeout)
    except PWError as e:
        print(f"  navigation to {url} failed: {str(e).splitlines()[0]}", flush=True)
        return None


def main_text(page):
    try:
        return page.inner_text("main", timeout=3000)
    except PWError:
        return ""


def h1_text(page):
    try:
        return page.inner_text("h1", timeout=3000)
    except PWError:
        return ""


def first_paint(env, page):
    """(e) first contentful paint of a cold load of the dashboard."""
    resp = goto(page, env.rpc + "/explorer")
    check("dashboard answers 200", resp is not None and resp.status == 200,
          f"status {resp.status if resp else 'none'}")
    fcp = page.evaluate("""() => new Promise(resolve => {
        const hit = performance.getEntriesByName('first-contentful-paint')[0];
        if (hit) return resolve(hit.startTime);
        new PerformanceObserver(list => {
            for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') resolve(e.startTime);
        }).observe({ type: 'paint', buffered: true });
        setTimeout(() => resolve(null), 5000);
    })""")
    print(f"  first-contentful-paint: {fcp if fcp is None else round(fcp, 1)} ms", flush=True)
    check("(e) first contentful paint < 1000 ms", fcp is not None and fcp < 1000,
          "no paint entry" if fcp is None else f"{fcp:.0f} ms")


def heights_agree(env, page):
    """(a) best-height and finalized-height equal getHead's, polled for 10 s."""
    deadline = time.monotonic() + 10
    last = None
    while time.monotonic() < deadline:
        head = env.json("/rpc/getHead")
        try:
            best = digits_of(page.text_content("#best-height", timeout=1000))
            fin = digits_of(page.text_content("#finalized-height", timeout=1000))
            lag = digits_of(page.text_content("#finality-lag", timeout=1000))
        except PWTimeout:
            best = fin = lag = None
        last = (best, fin, head["height"], head["finalized_height"])
        if best == head["height"] and fin == head["finalized_height"]:
            check("(a) dashboard heights equal getHead's", True, f"best {best}, finalized {fin}")
            check("(a) finality lag is best - finalized", lag == best - fin, f"lag {lag}")
            return
        page.wait_for_timeout(100)
    check("(a) dashboard heights equal getHead's", False,
          "dashboard best/finalized %s/%s, getHead %s/%s after 10 s" % last)


def transfer(env, page, bob):
    """(b) a finalized transfer shows on the dashboard within 2 s; the account page shows it."""
    before = int(env.json(f"/rpc/getBalance/{bob}")["balance"])
    tx = env.cli("tx", "transfer", "--rpc", env.rpc, "--from", "//alice", "--to", bob,
                 "--amount", "12345", "--wait", "finalized", "--timeout", "60")
    done = time.monotonic()
    h = tx["hash"]
    check("(b) transfer finalized", tx.get("status") == "finalized" and tx.get("success") is True,
          f"{h} in block {tx.get('block_height')}")
    sel = f'#recent-txs a[href="/explorer/tx/{h}"]'
    try:
        page.wait_for_selector(sel, state="visible", timeout=max(1, 2000 - (time.monotonic() - done) * 1000))
        check("(b) tx hash in #recent-txs within 2 s", True, f"after {time.monotonic() - done:.2f} s")
    except PWTimeout:
        check("(b) tx hash in #recent-txs within 2 s", False, f"{h} not listed")
    # the finalized badge and height follow the finalizedHeads notification
    try:
        page.wait_for_function(
            "h => Number((document.getElementById('finalized-height').textContent || '').replace(/\\D/g, '')) >= h",
            arg=tx["block_height"], timeout=max(1, 2000 - (time.monotonic() - done) * 1000))
        check("(b) finalized-height reaches the tx's block within 2 s", True)
    except PWTimeout:
        check("(b) finalized-height reaches the tx's block within 2 s", False,
              f"shows {page.text_content('#finalized-height')}, block {tx['block_height']}")
    bal = env.json(f"/rpc/getBalance/{bob}")["balance"]
    check("(b) BOB's balance grew by 12345", int(bal) - before == 12345, f"{before} -> {bal}")
    resp = goto(page, f"{env.rpc}/explorer/account/{bob}")
    text = norm_digits(main_text(page))
    check("(b) account page shows getBalance's balance",
          resp is not None and resp.status == 200 and re.search(rf"(?<!\d){bal}(?!\d)", text) is not None,
          f"status {resp.status if resp else 'none'}, balance {bal}")
    env.shot(page, "account.png")
    return tx


def claim(env, page, bob):
    """Opens a job as //bob and claims its receipt as //ferdie through a mock coordinator; the
    claim must show in #recent-claims with its minted amount and miner. Answers (receipt, job)."""
    port = free_port()
    coord = subprocess.Popen([env.node_bin, "mock-coordinator", "--addr", f"127.0.0.1:{port}", "--rpc", env.rpc],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if coord.poll() is not None:
                raise RuntimeError(f"mock-coordinator exited {coord.returncode}: {coord.stderr.read()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("mock-coordinator did not listen within 15 s")
        job = 1000 + secrets.randbelow(1_000_000)
        env.cli("tx", "open-job", "--rpc", env.rpc, "--client", "//bob", "--job", str(job), "--price", "1000",
                "--wait", "finalized", "--timeout", "60")
        tx = env.cli("tx", "claim-receipt", "--rpc", env.rpc, "--miner", "//ferdie", "--client", bob,
                     "--job", str(job), "--units", "5", "--coordinator", f"http://127.0.0.1:{port}",
                     "--wait", "finalized", "--timeout", "60")
    finally:
        coord.terminate()
        try:
            coord.wait(timeout=5)
        except subprocess.TimeoutExpired:
            coord.kill()
            coord.wait()
    ev = next((e["Receipts"]["ReceiptClaimed"] for e in tx.get("events") or []
               if "Receipts" in e and "ReceiptClaimed" in e["Receipts"]), None)
    if not check("claim finalized with a ReceiptClaimed event", tx.get("success") is True and ev is not None,
                 f"tx {tx.get('hash')}"):
        return None, job
    rid, minted, miner = ev["receipt_id"], ev["minted"], ev["miner"]
    row = f'#recent-claims tr[data-receipt="{rid}"]'
    try:
        page.wait_for_selector(row, state="visible", timeout=5000)
        cells = page.inner_text(row)
        grouped = re.sub(r"\B(?=(\d{3})+(?!\d))", ",", minted)
        miner_link = page.query_selector(f'{row} a[href="/explorer/account/{miner}"]')
        check("claim in #recent-claims with minted amount and miner",
              (grouped in cells or minted in cells) and miner_link is not None, f"minted {grouped}")
        total = digits_of(page.text_content("#minted-total"))
        check("#minted-total counts the claim", total is not None and total >= int(minted), f"{total}")
    except PWTimeout:
        check("claim in #recent-claims with minted amount and miner", False, f"receipt {rid} not listed within 5 s")
    return rid, job


def search(env, page, q):
    """Types q into the header search box and submits; answers the navigation's response."""
    page.fill('header form.search input[name="q"]', q, timeout=5000)
    try:
        with page.expect_navigation(wait_until="load", timeout=10000) as nav:
            page.press('header form.search input[name="q"]', "Enter")
        return nav.value
    except PWError as e:
        print(f"  search {q!r}: {str(e).splitlines()[0]}", flush=True)
        return None


def searches(env, page, tx, bob, rid):
    goto(page, env.rpc + "/explorer")
    height, bhash, thash = tx["block_height"], tx["block_hash"], tx["hash"]
    cases = [
        ("height", str(height), rf"/explorer/block/({height}|{bhash})", r"block", [str(height)]),
        ("block hash", bhash, rf"/explorer/block/({height}|{bhash})", r"block", [bhash]),
        ("tx hash", thash, rf"/explorer/tx/{thash}", r"transaction|tx", [thash]),
        ("address", bob, rf"/explorer/account/{bob}", r"account|address", [bob]),
    ]
    if rid:
        cases.append(("receipt id", rid, rf"/explorer/receipt/{rid}", r"receipt", [rid]))
    for name, q, path_re, h1_re, must in cases:
        resp = search(env, page, q)
        path = urlsplit(page.url).path
        text = norm_digits(main_text(page)).lower()
        ok = (resp is not None and resp.status == 200 and re.fullmatch(path_re, path, re.I) is not None
              and re.search(h1_re, h1_text(page), re.I) is not None
              and all(m.lower() in text for m in must))
        check(f"(c) search by {name} lands on its page", ok,
              f"{path} (status {resp.status if resp else 'none'}, h1 {h1_text(page)!r})")
        if name == "height":
            env.shot(page, "block.png")
        if name == "tx hash":
            env.shot(page, "tx.png")
    bad_addr = bob[:-1] + ("q" if bob[-1] != "q" else "p")  # a broken bech32 checksum
    for name, q in [("garbage", "no such thing!"), ("unknown 0x hash", "0x" + secrets.token_hex(32)),
                    ("malformed ait1 address", bad_addr)]:
        resp = search(env, page, q)
        visible = False
        try:
            page.wait_for_selector("section.notfound", state="visible", timeout=3000)
            visible = True
        except PWTimeout:
            pass
        nf_text = page.inner_text("section.notfound") if visible else ""
        check(f"(c) search for {name} answers the 404 page",
              resp is not None and resp.status == 404 and visible and "not found" in nf_text.lower(),
              f"status {resp.status if resp else 'none'}, .notfound {'visible' if visible else 'missing'}")
        if name == "unknown 0x hash":
            check("(c) the 404 page names what was looked for", q.lower() in nf_text.lower(), nf_text[:120])
            env.shot(page, "notfound.png")
    for path in ["/explorer/block/999999999", f"/explorer/tx/0x{secrets.token_hex(32)}",
                 "/explorer/account/ait1nothing", f"/explorer/receipt/0x{secrets.token_hex(32)}"]:
        resp = goto(page, env.rpc + path)
        check(f"(c) {path.rsplit('/', 1)[0]}/<unknown> is 404 with .notfound",
              resp is not None and resp.status == 404 and page.query_selector("section.notfound") is not None,
              f"status {resp.status if resp else 'none'}")


def no_js(env, browser, tx, bob, rid, job):
    """(d) every page type renders server-side with JavaScript disabled."""
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    bal = env.json(f"/rpc/getBalance/{bob}")["balance"]
    pages = [
        ("block", f"/explorer/block/{tx['block_height']}", [tx["block_hash"], tx["hash"]]),
        ("block by hash", f"/explorer/block/{tx['block_hash']}", [tx["block_hash"], str(tx["block_height"])]),
        ("tx", f"/explorer/tx/{tx['hash']}", [tx["hash"], str(tx["block_height"]), bob]),
        ("account", f"/explorer/account/{bob}", [bob, bal]),
    ]
    if rid:
        pages += [("receipt", f"/explorer/receipt/{rid}", [rid]),
                  ("job", f"/explorer/job/{bob}/{job}", [bob, str(job)])]
    for name, path, must in pages:
        resp = goto(page, env.rpc + path)
        text = norm_digits(main_text(page)).lower()
        missing = [m for m in must if m.lower() not in text]
        check(f"(d) {name} page without JS shows its data",
              resp is not None and resp.status == 200 and bool(h1_text(page)) and not missing,
              f"status {resp.status if resp else 'none'}" + (f", missing {missing}" if missing else ""))
    resp = goto(page, env.rpc + "/explorer")
    check("(d) dashboard without JS: the shell and search form render",
          resp is not None and resp.status == 200 and page.is_visible("header form.search")
          and page.query_selector("#recent-blocks") is not None)
    # the search form is a plain GET form: it works without JS too
    r = search(env, page, tx["hash"])
    check("(d) search without JS", r is not None and r.status == 200
          and urlsplit(page.url).path.lower() == f"/explorer/tx/{tx['hash']}".lower(), urlsplit(page.url).path)
    resp = goto(page, env.rpc + "/explorer/search?q=" + "zz-not-a-thing")
    check("(d) 404 page without JS", resp is not None and resp.status == 404 and page.is_visible("section.notfound"))
    ctx.close()


def assets(env):
    """The assets are served with fitting types, and stay small."""
    total = 0
    for name, ctype in [("explorer.css", "text/css"), ("dashboard.js", "javascript")]:
        try:
            with urllib.request.urlopen(f"{env.rpc}/explorer/assets/{name}", timeout=5) as r:
                body, got = r.read(), r.headers.get("content-type", "")
            total += len(body)
            check(f"asset {name} served as {ctype}", ctype in got, got)
        except urllib.error.URLError as e:
            check(f"asset {name} served as {ctype}", False, str(e))
    check("assets small", 0 < total < 300 * 1024, f"{total} bytes")


CHART_STATE = """() => {
    const d = sel => { const p = document.querySelector(sel); return p ? p.getAttribute('d') || '' : ''; };
    const num = (id, re) => { const m = re.exec(document.getElementById(id).textContent || ''); return m ? Number(m[1]) : null; };
    return { bline: d('#chart-bps path.line-b'), tline: d('#chart-tps path.line-t'), barea: d('#chart-bps path.area-b'),
             bmax: num('chart-bps-max', /max (\\d+(?:\\.\\d+)?)/), tmax: num('chart-tps-max', /max (\\d+(?:\\.\\d+)?)/),
             blatest: num('chart-bps-desc', /latest (\\d+(?:\\.\\d+)?)/),
             best: Number((document.getElementById('best-height').textContent || '').replace(/\\D/g, '')) };
}"""


def charts_plotted(page, name):
    """(f) both charts draw their series; the blocks/s line keeps up with a new head."""
    ok = "s => s.bline.includes('L') && s.barea.includes('Z') && s.tline.length > 0 && s.bmax > 0 && s.blatest > 0"
    try:
        page.wait_for_function(f"() => ({ok})(({CHART_STATE})())", timeout=5000)
        st = page.evaluate(CHART_STATE)
        check(f"(f) {name}: charts plot blocks/s and tx/s", True,
              f"{st['bline'].count('L') + 1} points, max {st['bmax']} blocks/s, {st['tmax']} tx/s")
    except PWTimeout:
        st = page.evaluate(CHART_STATE)
        check(f"(f) {name}: charts plot blocks/s and tx/s", False,
              f"line {st['bline'][:60]!r}, tx line {st['tline'][:60]!r}, max {st['bmax']}/{st['tmax']}, latest {st['blatest']}")
        return
    try:
        page.wait_for_function(f"b => ({CHART_STATE})().best > b", arg=st["best"], timeout=5000)
        page.wait_for_timeout(300)
        after = page.evaluate(CHART_STATE)
        check(f"(f) {name}: after a new head the blocks/s line still ends above zero",
              "L" in after["bline"] and (after["blatest"] or 0) > 0,
              f"best {st['best']} -> {after['best']}, latest {after['blatest']} blocks/s")
    except PWTimeout:
        check(f"(f) {name}: a new head within 5 s", False, f"best stays {st['best']}")


def dashboard_views(env, browser, same_origin):
    """Full-page screenshots once the dashboard has data: desktop light, dark, phone."""
    for name, opts in [("dashboard.png", dict(viewport={"width": 1280, "height": 900})),
                       ("dashboard-dark.png", dict(viewport={"width": 1280, "height": 900}, color_scheme="dark")),
                       ("dashboard-phone.png", dict(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                                    is_mobile=True, has_touch=True))]:
        ctx = browser.new_context(**opts)
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: same_origin(r.url))
        goto(page, env.rpc + "/explorer")
        try:
            page.wait_for_selector("#recent-blocks tbody tr[data-height]", timeout=5000)
            page.wait_for_selector("#validators tbody tr td a", timeout=8000)
            page.wait_for_function("document.querySelectorAll('#recent-blocks tbody tr[data-height]').length >= 10",
                                   timeout=5000)
        except PWTimeout:
            check(f"{name}: dashboard tables filled", False)
        try:
            page.wait_for_selector('.charts[data-backfill="done"]', state="attached", timeout=10000)
        except PWTimeout:
            check(f"{name}: chart history loaded within 10 s", False)
        charts_plotted(page, name)
        if name == "dashboard-phone.png":
            wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            check("phone: no horizontal page overflow", wide <= 1, f"{wide} px too wide")
        env.shot(page, name)
        check(f"{name}: no JS errors", not errors, "; ".join(errors)[:300])
        ctx.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rpc", required=True, help="the node's RPC URL, e.g. http://127.0.0.1:9080")
    ap.add_argument("--node-bin", required=True, help="the aitbc-node binary (for `tx` and `key`)")
    ap.add_argument("--screenshots", required=True, help="directory for the PNG screenshots")
    ap.add_argument("--no-claim", action="store_true", help="skip the job + receipt claim")
    a = ap.parse_args()
    os.makedirs(a.screenshots, exist_ok=True)
    env = Env(a.rpc, a.node_bin, a.screenshots)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(env.rpc))
    foreign = []

    def same_origin(url):
        if not url.startswith(origin + "/") and not url.startswith(("data:", "blob:")) \
                and not url.startswith(origin.replace("http", "ws", 1) + "/"):
            foreign.append(url)

    bob = json.loads(subprocess.run([env.node_bin, "key", "inspect", "//bob", "--json"], capture_output=True,
                                    text=True, check=True, timeout=30).stdout)["address"]
    def section(name, fn, *args):
        """Runs one part of the test; a crash is a failure with its reason, and the rest goes on."""
        try:
            return fn(*args)
        except Exception as e:
            check(f"{name} ran to the end", False, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            return None

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30000)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            ctx.set_default_timeout(10000)
            page = ctx.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: same_origin(r.url))
            section("(e) first paint", first_paint, env, page)
            section("(a) heights", heights_agree, env, page)
            tx = section("(b) transfer", transfer, env, page, bob)
            rid, job = None, None
            if tx and not a.no_claim:
                def claim_on_dashboard():
                    goto(page, env.rpc + "/explorer")
                    page.wait_for_selector("#recent-blocks tbody tr[data-height]", timeout=5000)
                    return claim(env, page, bob)
                rid, job = section("claim", claim_on_dashboard) or (None, None)
            check("dashboard: no JS errors", not errors, "; ".join(errors)[:300])
            if tx:
                section("(c) search", searches, env, page, tx, bob, rid)
            if rid:
                goto(page, f"{env.rpc}/explorer/receipt/{rid}")
                env.shot(page, "receipt.png")
                goto(page, f"{env.rpc}/explorer/job/{bob}/{job}")
                env.shot(page, "job.png")
            ctx.close()
            if tx:
                section("(d) without JS", no_js, env, browser, tx, bob, rid, job)
            section("dashboard views", dashboard_views, env, browser, same_origin)
            section("assets", assets, env)
            check("no request leaves the node's origin", not foreign, ", ".join(sorted(set(foreign)))[:300])
        finally:
            browser.close()
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
