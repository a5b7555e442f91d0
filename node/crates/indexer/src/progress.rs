//! Progress while catching up: a bar with blocks/s, transactions/s and the ETA on a terminal,
//! a plain log line every few seconds otherwise.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the bar is redrawn, and a log line written.
const REDRAW: Duration = Duration::from_millis(200);
const LOG_EVERY: Duration = Duration::from_secs(5);
const BAR_WIDTH: usize = 30;

#[derive(Debug)]
pub struct Progress {
    tty: bool,
    started: Instant,
    shown: Option<Instant>,
    from: u64,
    to: u64,
    height: u64,
    txs: u64,
    /// A catch-up is under way (its end is reported once).
    running: bool,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            shown: None,
            from: 0,
            to: 0,
            height: 0,
            txs: 0,
            running: false,
        }
    }

    /// A catch-up of `from..=to` begins (or, while one runs, its target moves).
    pub fn target(&mut self, from: u64, to: u64) {
        if !self.running {
            self.started = Instant::now();
            self.shown = None;
            self.from = from;
            self.txs = 0;
            self.running = true;
        }
        self.to = to;
    }

    pub fn written(&mut self, height: u64, txs: usize) {
        self.height = height;
        self.txs += txs as u64;
        tracing::debug!(target: "indexer", height, txs, "written");
        // Following the head writes a block or two at a time: only a catch-up that lasts is
        // shown.
        let every = if self.tty { REDRAW } else { LOG_EVERY };
        let last = self.shown.unwrap_or(self.started);
        if last.elapsed() >= every {
            self.show();
        }
    }

    /// At the head: ends the catch-up's display.
    pub fn caught_up(&mut self, height: Option<u64>) {
        if !self.running {
            return;
        }
        self.running = false;
        if self.shown.take().is_none() {
            return;
        }
        self.show();
        self.shown = None;
        if self.tty {
            eprintln!();
        }
        let secs = self.started.elapsed().as_secs_f64();
        tracing::info!(target: "indexer", height = ?height, blocks = self.height + 1 - self.from,
            transactions = self.txs, seconds = format!("{secs:.1}"), "caught up; following");
    }

    fn show(&mut self) {
        self.shown = Some(Instant::now());
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let done = (self.height + 1).saturating_sub(self.from);
        let total = (self.to + 1).saturating_sub(self.from).max(1);
        let blocks_s = done as f64 / secs;
        let txs_s = self.txs as f64 / secs;
        let left = total.saturating_sub(done);
        let eta = if blocks_s > 0.0 {
            left as f64 / blocks_s
        } else {
            0.0
        };
        if self.tty {
            let filled = (done as usize * BAR_WIDTH / total as usize).min(BAR_WIDTH);
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r[{}{}] {}/{} blocks  {blocks_s:.0} blocks/s  {txs_s:.0} tx/s  ETA {}:{:02}   ",
                "#".repeat(filled),
                " ".repeat(BAR_WIDTH - filled),
                self.height,
                self.to,
                eta as u64 / 60,
                eta as u64 % 60
            );
            let _ = err.flush();
        } else {
            tracing::info!(target: "indexer", height = self.height, target = self.to,
                blocks_per_s = format!("{blocks_s:.0}"), tx_per_s = format!("{txs_s:.0}"),
                eta_s = format!("{eta:.0}"), "indexing");
        }
    }
}
