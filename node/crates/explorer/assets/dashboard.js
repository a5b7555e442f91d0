// AITBC explorer dashboard: live chain figures from the node's own RPC (same origin).
// Vanilla JS, no dependencies. Live via the websocket (/rpc/ws: newHeads + finalizedHeads,
// reconnecting with backoff) with a getHead poll as fallback; /health, /metrics and
// /rpc/getValidators are polled. Amounts are integer base units: formatted as strings, never
// through floats.
(function () {
  'use strict';

  var RECENT_BLOCKS = 20;        // rows in #recent-blocks
  var RECENT_TXS = 20;           // rows in #recent-txs
  var RECENT_CLAIMS = 10;        // rows in #recent-claims
  var WINDOW_MS = 5 * 60 * 1000; // chart window (narrower, in whole minutes, while the chain is younger)
  var BUCKET_STEPS = [5000, 10000, 15000, 30000, 60000]; // chart interval: the first >= 5 slots
  var RATE_MS = 60 * 1000;       // the "current" rate is the mean over this span
  var EVENTS_MAX_TXS = 200;      // getBlockEvents only for blocks with at most this many txs
  var CLAIM_SCAN_BLOCKS = 100;   // how far back the first load looks for claims
  var HEAD_POLL_MS = 3000, STATUS_POLL_MS = 5000, FETCH_TIMEOUT_MS = 8000;

  var $ = function (id) { return document.getElementById(id); };

  var st = {
    best: null, bestHash: null, bestTs: null,
    finalized: null, finalizedHash: null,
    blocks: new Map(),   // height -> {height, hash, parent, ts, n, txs, author}
    claims: new Map(),   // receipt_id -> claim
    top: 0,              // highest height known
    skew: null,          // min(arrival - block timestamp): the chain clock relative to ours
    slotMs: null,        // slot duration, from two blocks' slot numbers and timestamps
    polledAt: null,      // chain time of the last getHead answer (what is known while polling)
    ws: null, wsOpen: false, backoff: 500,
    backfilled: false
  };

  // ---------- formatting ----------
  function group(v) {
    // thousands separators on an integer given as a number or a decimal string
    var s = String(v);
    var neg = s.charAt(0) === '-';
    if (neg) s = s.slice(1);
    if (!/^\d+$/.test(s)) return String(v);
    s = s.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return (neg ? '-' : '') + s;
  }
  function shortHash(h) { return h && h.length > 16 ? h.slice(0, 8) + '…' + h.slice(-4) : (h || ''); }
  function shortAddr(a) { return a && a.length > 18 ? a.slice(0, 10) + '…' + a.slice(-4) : (a || ''); }
  function rate(count, ms) { return ms > 0 ? (count * 1000 / ms) : 0; }
  function fixed(x) { return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2); }
  function ppmPercent(ppm) {
    var p = Math.max(0, Math.floor(Number(ppm) || 0));
    var whole = Math.floor(p / 10000), frac = String(p % 10000);
    while (frac.length < 4) frac = '0' + frac;
    return whole + '.' + frac.slice(0, 2) + ' %';
  }
  function chainNow() { return Date.now() - (st.skew == null ? 0 : st.skew); }
  function age(ts) {
    if (!ts) return '';
    var s = Math.max(0, Math.round((chainNow() - ts) / 1000));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return Math.floor(s / 3600) + ' h';
    return Math.floor(s / 86400) + ' d';
  }
  function addBig(a, b) {
    // sum of two non-negative decimal strings
    if (typeof BigInt === 'function') return (BigInt(a) + BigInt(b)).toString();
    var x = String(a), y = String(b), out = '', carry = 0, i = x.length - 1, j = y.length - 1;
    while (i >= 0 || j >= 0 || carry) {
      var d = (i >= 0 ? +x[i--] : 0) + (j >= 0 ? +y[j--] : 0) + carry;
      out = (d % 10) + out; carry = d > 9 ? 1 : 0;
    }
    return out.replace(/^0+(?=\d)/, '');
  }
  function digits(v) { var s = String(v == null ? '0' : v); return /^\d+$/.test(s) ? s : '0'; }

  // ---------- DOM helpers ----------
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] == null) continue;
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    if (kids) kids.forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function setText(id, v) { var e = $(id); if (e && e.textContent !== String(v)) e.textContent = v; }
  function hashLink(href, h, full) {
    return el('a', { href: href, title: h }, [el('code', { cls: 'hash', text: full ? h : shortHash(h) })]);
  }
  function addrLink(a) {
    return el('a', { href: '/explorer/account/' + encodeURIComponent(a), title: a }, [el('code', { cls: 'hash', text: shortAddr(a) })]);
  }
  function fillBody(tableId, rows, cols, emptyText) {
    var t = $(tableId); if (!t) return;
    var body = t.tBodies[0];
    var nb = document.createElement('tbody');
    if (!rows.length) nb.appendChild(el('tr', null, [el('td', { colspan: String(cols), cls: 'empty', text: emptyText })]));
    else rows.forEach(function (r) { nb.appendChild(r); });
    t.replaceChild(nb, body);
  }

  // ---------- network ----------
  function getJSON(path) {
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT_MS) : null;
    return fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store', signal: ctl ? ctl.signal : undefined })
      .then(function (r) {
        if (!r.ok) { var e = new Error(path + ': HTTP ' + r.status); e.status = r.status; throw e; }
        return r.json();
      })
      .finally(function () { if (timer) clearTimeout(timer); });
  }
  function getText(path) {
    return fetch(path, { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
      return r.text();
    });
  }
  // A small queue: at most `n` requests of a kind in flight; the oldest queued work is dropped
  // (its promise answers null) when more than `cap` wait, so a flood of blocks cannot pile up
  // requests. push() answers a promise of fn's result, null if it failed or was dropped.
  function Queue(n, cap) { this.n = n; this.cap = cap; this.busy = 0; this.q = []; }
  Queue.prototype.push = function (fn, front) {
    var self = this;
    return new Promise(function (resolve) {
      var item = { fn: fn, resolve: resolve };
      if (front) self.q.unshift(item); else self.q.push(item);
      while (self.q.length > self.cap) self.q.shift().resolve(null);
      self.pump();
    });
  };
  Queue.prototype.pump = function () {
    var self = this;
    while (this.busy < this.n && this.q.length) {
      var item = this.q.shift();
      this.busy++;
      Promise.resolve().then(item.fn).then(item.resolve, function () { item.resolve(null); })
        .then(function () { self.busy--; self.pump(); });
    }
  };
  var blockQ = new Queue(4, 400), eventQ = new Queue(2, 120);

  // ---------- chain state ----------
  var dirty = false;
  function schedule() {
    if (dirty) return;
    dirty = true;
    var run = function () { dirty = false; render(); };
    if (window.requestAnimationFrame) window.requestAnimationFrame(run); else setTimeout(run, 16);
  }

  function setBest(height, hash, ts) {
    st.best = height; st.bestHash = hash || st.bestHash; if (ts) st.bestTs = ts;
    setText('best-height', group(height));
    updateLag();
  }
  function setFinalized(height, hash) {
    if (st.finalized != null && height < st.finalized) return; // finality never goes back
    st.finalized = height;
    if (hash) st.finalizedHash = hash;
    setText('finalized-height', group(height));
    var fh = $('finalized-hash');
    if (fh && st.finalizedHash) { fh.textContent = shortHash(st.finalizedHash); fh.title = st.finalizedHash; }
    updateLag();
    schedule();
  }
  function updateLag() {
    if (st.best != null && st.finalized != null) setText('finality-lag', group(Math.max(0, st.best - st.finalized)));
  }

  // Record a block (a websocket head or a getBlock answer). `fromHead`: the node's new best.
  function addBlock(b, fromHead) {
    if (!b || typeof b.height !== 'number') return;
    var h = b.height;
    var old = st.blocks.get(h);
    var replaced = old && old.hash !== b.hash;
    if (fromHead) {
      // a new best block: anything above it left the best chain
      st.blocks.forEach(function (_, k) { if (k > h) st.blocks.delete(k); });
      st.top = h;
    } else if (h > st.top) st.top = h;
    st.claims.forEach(function (c, k) {
      if ((fromHead && c.height > h) || (replaced && c.height === h)) { st.claims.delete(k); claimsDirty = true; }
    });
    var txs = Array.isArray(b.transactions) ? b.transactions.slice(-RECENT_TXS) : (old && old.hash === b.hash ? old.txs : []);
    var rec = {
      height: h, hash: b.hash, parent: b.parent_hash, ts: b.timestamp_ms, slot: b.slot,
      n: typeof b.tx_count === 'number' ? b.tx_count : txs.length,
      txs: txs,
      author: b.author || (old && old.hash === b.hash ? old.author : null)
    };
    st.blocks.set(h, rec);
    // the parent we hold must be this block's parent; if not, refetch it (a reorg below)
    var parent = st.blocks.get(h - 1);
    if (parent && rec.parent && parent.hash !== rec.parent) fetchBlock(h - 1, true);
    if ((!old || replaced) && rec.n > 0 && rec.n <= EVENTS_MAX_TXS) scanClaims(rec);
    prune();
    schedule();
    return rec;
  }

  function prune() {
    var keepFrom = st.top - RECENT_BLOCKS;
    var tsLimit = chainNow() - WINDOW_MS - bucketMs() - 20000; // the chart's first point looks one interval back
    st.blocks.forEach(function (b, k) { if (k <= keepFrom && b.ts < tsLimit) st.blocks.delete(k); });
  }

  var inflight = new Set();
  function fetchBlock(ref, front) {
    var key = String(ref);
    if (inflight.has(key)) return;
    inflight.add(key);
    blockQ.push(function () {
      return getJSON('/rpc/getBlock/' + encodeURIComponent(ref)).then(function (b) {
        var cur = st.blocks.get(b.height);
        // a getBlock by height is the canonical block of that moment; by hash, keep it only if
        // it still is the block we show at that height
        if (typeof ref === 'string' && cur && cur.hash !== b.hash) return;
        addBlock(b, false);
      }).finally(function () { inflight.delete(key); });
    }, front);
  }

  function scanClaims(rec) {
    eventQ.push(function () {
      return getJSON('/rpc/getBlockEvents/' + encodeURIComponent(rec.hash)).then(function (r) {
        var cur = st.blocks.get(rec.height);
        if (cur && cur.hash !== rec.hash) return;
        (r.events || []).forEach(function (tx) {
          if (!tx || tx.success === false) return;
          (tx.events || []).forEach(function (ev) {
            var c = ev && ev.Receipts && ev.Receipts.ReceiptClaimed;
            if (!c) return;
            st.claims.set(c.receipt_id || tx.tx_hash, {
              height: r.height, ts: rec.ts, tx: tx.tx_hash, receipt: c.receipt_id, miner: c.miner,
              client: c.client, job: c.job_id, units: c.compute_units, minted: digits(c.minted), paid: digits(c.paid)
            });
          });
        });
        var keys = Array.from(st.claims.keys());
        if (keys.length > RECENT_CLAIMS * 5) {
          keys.sort(function (a, b) { return st.claims.get(a).height - st.claims.get(b).height; });
          keys.slice(0, keys.length - RECENT_CLAIMS * 5).forEach(function (k) { st.claims.delete(k); });
        }
        claimsDirty = true;
        schedule();
      });
    });
  }

  // A head seen now was stamped at most now: the least (arrival - timestamp) over the heads seen
  // (pushed or polled) bounds the chain clock's offset from ours, so the charts' `now` is the
  // chain's even when the two clocks differ.
  function noteSkew(ts) {
    if (!ts) return;
    var d = Date.now() - ts;
    if (st.skew == null || d < st.skew) st.skew = d;
  }
  function onHead(head, viaWs) {
    if (viaWs) noteSkew(head.timestamp_ms);
    var gapFrom = st.top;
    setBest(head.height, head.hash, head.timestamp_ms);
    var rec = addBlock(head, true);
    if (rec && !rec.author) fetchBlock(head.hash, true); // author (the head has none)
    if (!st.backfilled) { st.backfilled = true; backfill(head.height); }
    else if (gapFrom && head.height - gapFrom > 1) {
      // missed heads (a dropped websocket): fetch the gap, the newest RECENT_BLOCKS at most
      for (var h = head.height - 1; h > gapFrom && h >= head.height - RECENT_BLOCKS; h--) fetchBlock(h, false);
    }
  }

  // First load: the recent blocks first, then further back (a chunk at a time, while the chart
  // window is not covered) for the chart and the claims.
  function backfill(top) {
    var h = top - 1, scanned = 0;
    function done() { var c = document.querySelector('.charts'); if (c) c.setAttribute('data-backfill', 'done'); schedule(); }
    (function chunk() {
      if (h < 1 || scanned >= 400) return done();
      var ps = [], n = scanned === 0 ? RECENT_BLOCKS : 20;
      for (var i = 0; i < n && h >= 1; i++, h--, scanned++) ps.push(loadOld(h, scanned < CLAIM_SCAN_BLOCKS));
      Promise.all(ps).then(function (bs) {
        var lowest = bs[bs.length - 1];
        if (!lowest || !lowest.timestamp_ms || lowest.timestamp_ms < chainNow() - WINDOW_MS - bucketMs()) return done();
        setTimeout(chunk, 0);
      });
    })();
  }
  function loadOld(h, scan) {
    return blockQ.push(function () {
      return getJSON('/rpc/getBlock/' + h).then(function (b) {
        if (!st.blocks.has(b.height) && (st.best == null || b.height <= st.best)) {
          var rec = {
            height: b.height, hash: b.hash, parent: b.parent_hash, ts: b.timestamp_ms, slot: b.slot, n: b.tx_count || 0,
            txs: (b.transactions || []).slice(-RECENT_TXS), author: b.author
          };
          st.blocks.set(b.height, rec);
          if (scan && rec.n > 0 && rec.n <= EVENTS_MAX_TXS) scanClaims(rec);
          schedule();
        }
        return b;
      });
    });
  }

  // ---------- websocket ----------
  function connect() {
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/rpc/ws';
    var ws;
    try { ws = new WebSocket(url); } catch (e) { return reconnectLater(); }
    st.ws = ws;
    ws.onopen = function () {
      st.wsOpen = true;
      st.backoff = 500;
      ws.send(JSON.stringify({ subscribe: 'newHeads', id: 1 }));
      ws.send(JSON.stringify({ subscribe: 'finalizedHeads', id: 2 }));
      liveStatus('live', 'on');
      pollHead().catch(function () {}); // catch up on what happened while disconnected
    };
    ws.onmessage = function (m) {
      var msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      if (!msg || !msg.result) return;
      if (msg.subscribe === 'newHeads') onHead(msg.result, true);
      else if (msg.subscribe === 'finalizedHeads') setFinalized(msg.result.height, msg.result.hash);
    };
    ws.onclose = function () {
      if (st.ws !== ws) return;
      st.wsOpen = false; st.ws = null;
      liveStatus('reconnecting… (polling)', 'off');
      reconnectLater();
    };
    ws.onerror = function () { try { ws.close(); } catch (e) { /* closed already */ } };
  }
  function reconnectLater() {
    var wait = st.backoff + Math.floor(Math.random() * 250);
    st.backoff = Math.min(st.backoff * 2, 15000);
    setTimeout(connect, wait);
  }
  function liveStatus(text, cls) {
    var e = $('live-status'); if (!e) return;
    e.textContent = text; e.className = 'live ' + (cls || '');
  }

  // ---------- polls ----------
  function every(ms, fn) {
    (function tick() {
      var p = document.hidden ? Promise.resolve() : Promise.resolve().then(fn).catch(function () {});
      p.then(function () { setTimeout(tick, ms); });
    })();
  }
  function pollHead() {
    return getJSON('/rpc/getHead').then(function (h) {
      noteSkew(h.timestamp_ms);
      st.polledAt = chainNow();
      if (typeof h.finalized_height === 'number') setFinalized(h.finalized_height, h.finalized_hash);
      // the websocket is the authority while it is open; the poll only moves forward then
      if (st.best == null || !st.wsOpen || h.height > st.best) {
        var gapFrom = st.top;
        setBest(h.height, h.hash, h.timestamp_ms);
        var cur = st.blocks.get(h.height);
        if (!cur || cur.hash !== h.hash) {
          if (h.height < st.top) {
            st.blocks.forEach(function (_, k) { if (k > h.height) st.blocks.delete(k); });
            st.top = h.height;
          }
          fetchBlock(h.height, true);
          if (!st.backfilled) { st.backfilled = true; backfill(h.height); }
          else for (var k = h.height - 1; k > gapFrom && k > h.height - RECENT_BLOCKS; k--) fetchBlock(k, false);
        }
      }
      if (!st.wsOpen) liveStatus(st.ws ? 'connecting…' : 'polling', 'off');
    }, function (e) {
      if (!st.wsOpen) liveStatus('node unreachable', 'off');
      throw e;
    });
  }
  function pollHealth() {
    return getJSON('/health').then(function (h) {
      if (typeof h.peers === 'number') setText('peers', group(h.peers));
      var info = [h.chain, h.syncing ? 'syncing' : null, h.status && h.status !== 'ok' ? h.status : null].filter(Boolean).join(' · ');
      setText('node-info', info || '\u00a0');
    });
  }
  function metric(text, name) {
    var m = new RegExp('^' + name + '(?:\\{[^}]*\\})? ([0-9.eE+-]+)$', 'm').exec(text);
    return m ? Math.round(Number(m[1])) : null;
  }
  function pollMetrics() {
    return getText('/metrics').then(function (t) {
      var ready = metric(t, 'substrate_ready_transactions_number');
      var future = metric(t, 'aitbc_future_transactions_number');
      if (ready != null) {
        setText('pool-size', group(ready + (future || 0)));
        setText('pool-detail', group(ready) + ' ready · ' + group(future || 0) + ' future');
      }
      if ($('peers').textContent === '—') {
        var peers = metric(t, 'substrate_sub_libp2p_peers_count');
        if (peers != null) setText('peers', group(peers));
      }
    });
  }
  function pollValidators() {
    return getJSON('/rpc/getValidators').then(function (v) {
      var vals = (v.validators || []).slice().sort(function (a, b) { return (b.weight_ppm || 0) - (a.weight_ppm || 0); });
      var rows = vals.map(function (x) {
        return el('tr', null, [
          el('td', null, [addrLink(x.address)]),
          el('td', { cls: 'num', text: ppmPercent(x.weight_ppm) }),
          el('td', { cls: 'num', text: group(digits(x.bonded)) }),
          el('td', { cls: 'num hide-sm', text: group(digits(x.work_score)) }),
          el('td', { cls: 'num', text: group(x.authored_this_epoch || 0) }),
          el('td', null, [el('span', { cls: 'badge ' + (x.disabled ? 'fail' : 'ok'), text: x.disabled ? 'disabled' : 'active' })])
        ]);
      });
      fillBody('validators', rows, 6, 'No validators');
      var ep = 'epoch ' + group(v.epoch || 0);
      if (v.next_epoch_at != null) ep += ' · next at #' + group(v.next_epoch_at);
      ep += ' · ' + vals.length + (vals.length === 1 ? ' validator' : ' validators');
      setText('validators-epoch', ep);
    });
  }

  // ---------- rendering ----------
  var claimsDirty = true, shownTop = null;
  function sortedHeights() {
    var hs = Array.from(st.blocks.keys());
    hs.sort(function (a, b) { return b - a; });
    return hs;
  }
  function render() {
    var hs = sortedHeights();
    var fin = st.finalized;
    // recent blocks
    var rows = [];
    for (var i = 0; i < hs.length && rows.length < RECENT_BLOCKS; i++) {
      var b = st.blocks.get(hs[i]);
      var done = fin != null && b.height <= fin;
      var tr = el('tr', { 'data-height': String(b.height), cls: shownTop != null && b.height > shownTop ? 'new' : null }, [
        el('td', null, [el('a', { href: '/explorer/block/' + b.height, text: group(b.height) })]),
        el('td', null, [hashLink('/explorer/block/' + b.hash, b.hash)]),
        el('td', { cls: 'num', text: group(b.n) }),
        el('td', { cls: 'hide-sm' }, [b.author ? addrLink(b.author) : el('span', { cls: 'hint', text: '…' })]),
        el('td', { cls: 'num hide-sm', 'data-ts': String(b.ts || ''), text: age(b.ts) }),
        el('td', null, [el('span', { cls: 'badge ' + (done ? 'final' : 'pending'), text: done ? 'finalized' : 'pending' })])
      ]);
      rows.push(tr);
    }
    fillBody('recent-blocks', rows, 6, 'No blocks yet');
    // recent transactions: newest block first, the last in a block first
    var txRows = [];
    for (var j = 0; j < hs.length && txRows.length < RECENT_TXS; j++) {
      var blk = st.blocks.get(hs[j]);
      for (var t = blk.txs.length - 1; t >= 0 && txRows.length < RECENT_TXS; t--) {
        var hash = blk.txs[t];
        txRows.push(el('tr', { 'data-tx': hash, cls: shownTop != null && blk.height > shownTop ? 'new' : null }, [
          el('td', null, [hashLink('/explorer/tx/' + hash, hash)]),
          el('td', { cls: 'num' }, [el('a', { href: '/explorer/block/' + blk.height, text: group(blk.height) })]),
          el('td', { cls: 'num', 'data-ts': String(blk.ts || ''), text: age(blk.ts) })
        ]));
      }
    }
    fillBody('recent-txs', txRows, 3, st.backfilled ? 'No transactions in the recent blocks' : 'Loading…');
    if (hs.length) shownTop = hs[0];
    if (claimsDirty) { claimsDirty = false; renderClaims(); }
    renderCharts();
    if (st.bestTs) setText('best-age', age(st.bestTs) + ' ago');
  }
  function renderClaims() {
    var cs = Array.from(st.claims.values());
    cs.sort(function (a, b) { return b.height - a.height; });
    var total = '0';
    cs.forEach(function (c) { total = addBig(total, c.minted); });
    var rows = cs.slice(0, RECENT_CLAIMS).map(function (c) {
      var job = c.client != null && c.job != null
        ? el('a', { href: '/explorer/job/' + encodeURIComponent(c.client) + '/' + encodeURIComponent(c.job), title: 'job ' + c.job + ' of ' + c.client, text: '#' + c.job })
        : '';
      return el('tr', { 'data-receipt': c.receipt || '', 'data-tx': c.tx || '' }, [
        el('td', null, [c.receipt ? hashLink('/explorer/receipt/' + c.receipt, c.receipt) : hashLink('/explorer/tx/' + c.tx, c.tx)]),
        el('td', null, [c.miner ? addrLink(c.miner) : '']),
        el('td', { cls: 'hide-sm' }, [job]),
        el('td', { cls: 'num', text: group(c.units == null ? '' : c.units) }),
        el('td', { cls: 'num hide-sm', text: group(c.paid) }),
        el('td', { cls: 'num', text: group(c.minted) }),
        el('td', { cls: 'num' }, [el('a', { href: '/explorer/block/' + c.height, text: group(c.height) })]),
        el('td', { cls: 'num hide-sm', 'data-ts': String(c.ts || ''), text: age(c.ts) })
      ]);
    });
    fillBody('recent-claims', rows, 8, 'No claims in the recent blocks');
    setText('minted-total', group(total));
    setText('minted-detail', cs.length ? 'by ' + cs.length + (cs.length === 1 ? ' recent claim' : ' recent claims') : 'by recent claims');
  }

  // ---------- charts ----------
  var SVGNS = 'http://www.w3.org/2000/svg';
  // The blocks we hold, by height, form runs of consecutive heights. A run a..b covers the chain
  // time (ts(a), ts(b)] and blocks a+1..b fall in it; the run that ends at the best block covers up
  // to now (nothing newer exists; while polling, up to the last poll). Time outside every run
  // (before the oldest block we hold, a gap of missed heads not fetched yet) has no data: it is
  // left out of a rate, never counted as zero.
  // A point of a chart is the mean rate over the interval before it (blocks / covered seconds);
  // points sit on whole multiples of the interval (stable as time goes on) plus a last one where
  // the data ends (now; while polling, the last poll), each over a whole interval where it can.
  function bucketMs() {
    var slot = st.slotMs || 1000;
    for (var i = 0; i < BUCKET_STEPS.length; i++) if (BUCKET_STEPS[i] >= 5 * slot) return BUCKET_STEPS[i];
    return BUCKET_STEPS[BUCKET_STEPS.length - 1];
  }
  function chartData() {
    var bs = [];
    st.blocks.forEach(function (b) { if (b.ts) bs.push(b); });
    if (bs.length < 2) return null;
    bs.sort(function (a, b) { return a.height - b.height; });
    var lo = bs[0], hi = bs[bs.length - 1];
    if (st.slotMs == null && typeof lo.slot === 'number' && typeof hi.slot === 'number' && hi.slot > lo.slot && hi.ts > lo.ts) {
      st.slotMs = Math.max(1, Math.round((hi.ts - lo.ts) / (hi.slot - lo.slot)));
    }
    var now = Math.max(chainNow(), hi.ts);
    var runs = [], counted = [], run = null;
    for (var i = 0; i < bs.length; i++) {
      var b = bs[i];
      if (run && b.height === run.top + 1 && b.ts >= run.end) { run.top = b.height; run.end = b.ts; counted.push(b); }
      else { run = { start: b.ts, end: b.ts, top: b.height }; runs.push(run); }
    }
    // the best block's run reaches up to now while heads are pushed; while polling, up to the last
    // poll (blocks made since are not known yet: no data, not zero)
    if (st.best == null || run.top >= st.best) {
      run.end = st.wsOpen || st.polledAt == null ? now : Math.max(run.end, Math.min(now, st.polledAt));
    }
    return { now: now, end: run.end, runs: runs, counted: counted, bucket: bucketMs() };
  }
  function covered(runs, from, to) {
    var s = 0;
    for (var i = 0; i < runs.length; i++) s += Math.max(0, Math.min(to, runs[i].end) - Math.max(from, runs[i].start));
    return s;
  }
  function renderCharts() {
    var d = chartData();
    if (!d) return;
    var B = d.bucket, now = d.now, end = d.end, minSpan = Math.max(1000, st.slotMs || 0);
    // the window: the last 5 minutes, or fewer whole minutes while the data is younger
    var span = Math.min(WINDOW_MS, Math.max(60000, Math.ceil((now - d.runs[0].start) / 60000) * 60000));
    var from = now - span;
    var k0 = Math.floor(from / B), kN = Math.ceil(end / B) - 1; // points k*B for k0 <= k <= kN (< end)
    var nb = new Array(kN - k0 + 1).fill(0), nt = new Array(kN - k0 + 1).fill(0);
    var lastB = 0, lastT = 0, rateB = 0, rateT = 0;
    for (var i = 0; i < d.counted.length; i++) {
      var b = d.counted[i], k = Math.ceil(b.ts / B) - k0; // the point k*B covers ((k-1)*B, k*B]
      if (k >= 0 && k < nb.length) { nb[k]++; nt[k] += b.n; }
      if (b.ts > end - B) { lastB++; lastT += b.n; }
      if (b.ts > end - RATE_MS) { rateB++; rateT += b.n; }
    }
    var pts = [];
    for (var j = 0; j < nb.length; j++) {
      var t = (k0 + j) * B, c = covered(d.runs, t - B, t);
      pts.push(c >= minSpan ? { t: t, b: rate(nb[j], c), n: rate(nt[j], c) } : { t: t, b: null, n: null });
    }
    var cEnd = covered(d.runs, end - B, end);
    pts.push(cEnd >= minSpan ? { t: end, b: rate(lastB, cEnd), n: rate(lastT, cEnd) } : { t: end, b: null, n: null });
    var cRate = covered(d.runs, end - RATE_MS, end);
    setText('bps-now', cRate >= 2000 ? fixed(rate(rateB, cRate)) + ' /s' : '—');
    setText('tps-now', cRate >= 2000 ? fixed(rate(rateT, cRate)) + ' /s' : '—');
    var view = { from: from, span: span, bucket: B };
    drawLine('chart-bps', pts, 'b', view, 'b', 'Blocks', 'blocks');
    drawLine('chart-tps', pts, 'n', view, 't', 'Transactions', 'transactions');
  }
  var charts = {};
  function drawLine(id, pts, key, view, cls, title, what) {
    var svg = $(id); if (!svg) return;
    var c = charts[id];
    if (!c) {
      // built once; later renders only change the three paths' `d` (when it changed)
      var g = document.createElementNS(SVGNS, 'g');
      c = charts[id] = { d: {} };
      ['area', 'line', 'dot'].forEach(function (part) {
        var p = document.createElementNS(SVGNS, 'path');
        p.setAttribute('class', part + '-' + cls);
        if (part !== 'area') p.setAttribute('vector-effect', 'non-scaling-stroke');
        g.appendChild(p);
        c[part] = p;
      });
      var old = svg.querySelector('g');
      if (old) svg.replaceChild(g, old); else svg.appendChild(g);
    }
    var W = 296, H = 90, top = 10, base = H - 1.5; // the viewBox is 300 wide: room for the dot at `now`
    var max = 0, latest = null; // of the points in view (the first one may sit just left of it)
    for (var i = 0; i < pts.length; i++) {
      var r = pts[i][key];
      if (r == null) continue;
      latest = r;
      if (r > max && pts[i].t >= view.from) max = r;
    }
    var scale = max > 0 ? max : 1;
    var line = '', area = '', seg = [];
    function flush() {
      if (!seg.length) return;
      line += 'M' + seg.join('L');
      var x0 = seg[0].split(',')[0], x1 = seg[seg.length - 1].split(',')[0];
      area += 'M' + x0 + ',' + base + 'L' + seg.join('L') + 'L' + x1 + ',' + base + 'Z';
      seg = [];
    }
    var dot = '';
    for (var j = 0; j < pts.length; j++) {
      var v = pts[j][key];
      if (v == null) { flush(); continue; }
      var x = ((pts[j].t - view.from) / view.span * W).toFixed(1);
      var y = (base - v / scale * (base - top)).toFixed(1);
      seg.push(x + ',' + y);
      if (j === pts.length - 1) dot = 'M' + x + ',' + y + 'h0';
    }
    flush();
    var paths = { area: area, line: line, dot: dot };
    for (var part in paths) if (c.d[part] !== paths[part]) { c.d[part] = paths[part]; c[part].setAttribute('d', paths[part]); }
    var mins = Math.round(view.span / 60000), minsText = mins + (mins === 1 ? ' minute' : ' minutes');
    var axis = svg.parentNode && svg.parentNode.querySelector('.axis span');
    if (axis) setTextEl(axis, '−' + mins + ' min');
    setText(id + '-title', title + ' per second, last ' + minsText);
    setText(id + '-max', line ? 'max ' + fixed(max) + ' /s' : '');
    setText(id + '-desc', line
      ? 'Line chart of ' + what + ' per second over the last ' + minsText + ', each point the mean over the ' +
        (view.bucket / 1000) + ' seconds before it: maximum ' + fixed(max) + ', latest ' + fixed(latest || 0) + '.'
      : 'No data yet.');
  }
  function setTextEl(e, v) { if (e.textContent !== v) e.textContent = v; }
  function tickAges() {
    var cells = document.querySelectorAll('#recent-blocks td[data-ts], #recent-txs td[data-ts], #recent-claims td[data-ts]');
    for (var i = 0; i < cells.length; i++) {
      var ts = Number(cells[i].getAttribute('data-ts'));
      var a = age(ts);
      if (cells[i].textContent !== a) cells[i].textContent = a;
    }
    if (st.bestTs) setText('best-age', age(st.bestTs) + ' ago');
  }

  // ---------- start ----------
  connect();
  every(HEAD_POLL_MS, pollHead);
  every(STATUS_POLL_MS, pollHealth);
  every(STATUS_POLL_MS, pollMetrics);
  every(STATUS_POLL_MS, pollValidators);
  setInterval(function () { if (!document.hidden) { tickAges(); renderCharts(); } }, 1000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) { pollHead().catch(function () {}); schedule(); } });
})();
