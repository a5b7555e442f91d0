//! Warp sync: a node with an empty database joins a long chain without executing it.
//!
//! 1. **Finality.** From the genesis authorities, the worker asks a peer for the finality proof
//!    (`SyncRequest::FinalityProof`, pages of at most 64 set changes) and verifies every
//!    justification and set change (`primitives::warp`). A peer whose proof fails is charged
//!    `BadProof` (banned) and the next one is asked; the fragments verified so far stay good.
//!    The last fragment is the target: the latest finalized block the peers justified.
//! 2. **The target block.** Fetched by hash; its header must be the proven one and its body must
//!    match the header's extrinsics root.
//! 3. **State.** The target's state, in chunks of up to a response budget, asked of the peers in
//!    turn, each chunk range-proof-checked against the target's state root and written straight
//!    to the database (`aitbc_storage::StateRestore`: memory bounded whatever the state size).
//!    The verified proof and the block are kept with the restore, so after a kill the node
//!    resumes from the last persisted chunk. A chunk that fails its check gets its peer banned;
//!    a peer that cannot serve the target (pruned) or times out is skipped for this target. If
//!    no peer can serve it any more, the worker starts over on a newer target.
//! 4. **Then** the client stands on the target as its best and finalized block, and the normal
//!    workers take over: full sync of the blocks after it, finality, gossip.
//!
//! An empty finality proof from an honest peer means "nothing newer", not an offence. A forced
//! authority-set change has no justification: a proof across it is refused (start such a node
//! from a trusted checkpoint instead: the light client's `--checkpoint`).

use aitbc_client::{Client, SignedBlockOf};
use aitbc_network::Validation;
use aitbc_network::{Misbehaviour, NetworkEvent, PeerId, SharedNetwork, SyncRequest, SyncResponse};
use aitbc_primitives::snapshot::StateChunk;
use aitbc_primitives::warp::{Checkpoint, FinalityProof, WarpFragment};
use aitbc_primitives::{decode_exact, extrinsics_root, BoundedVec, Hash, Header, StateMachine};
use aitbc_storage::{BlockRef, CheckedChunk, RestoreError, StorageError};
use codec::{Decode, Encode};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};

/// How a node catches up with its peers (`--sync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Import every block from the node's best block on.
    Full,
    /// Warp to the latest finalized state first (a database holding only its genesis), then
    /// import the blocks after it.
    Warp,
    /// Warp when the database holds only its genesis and a peer is at least [`AUTO_MIN_GAP`]
    /// finalized blocks ahead after [`AUTO_GRACE`]; else full.
    Auto,
}

impl SyncMode {
    /// What opening the database does about the genesis state in this mode: a warping node
    /// skips it (the restore replaces it; 1M accounts take seconds to write), a full node
    /// needs it even after an unfinished warp.
    pub fn genesis_state(self) -> aitbc_storage::GenesisState {
        match self {
            SyncMode::Full => aitbc_storage::GenesisState::Ensure,
            SyncMode::Warp => aitbc_storage::GenesisState::Skip,
            SyncMode::Auto => aitbc_storage::GenesisState::IfNew,
        }
    }
}

/// A peer must be this far ahead for `Auto` to warp (below it, importing is as quick).
pub const AUTO_MIN_GAP: u64 = 64;
/// How long `Auto` waits for a peer's status.
pub const AUTO_GRACE: Duration = Duration::from_secs(2);
/// How often the worker looks at its peers again when none can help yet.
const RETRY: Duration = Duration::from_millis(250);

/// What a restore keeps to finish after a restart: the verified finality proof from genesis
/// (its last fragment is the target) and the target block (`import-state` keeps the same).
#[derive(Debug, Clone, Encode, Decode)]
pub struct WarpContext {
    pub fragments: Vec<WarpFragment>,
    pub block: Vec<u8>,
}

/// Verifies `fragments` (a finality proof from genesis, any length) from `genesis` and returns
/// the checkpoint they lead to.
pub fn verify_from(
    genesis: &Checkpoint,
    fragments: &[WarpFragment],
) -> Result<Checkpoint, aitbc_primitives::warp::WarpError> {
    let mut at = genesis.clone();
    for page in fragments.chunks(aitbc_primitives::warp::MAX_WARP_FRAGMENTS) {
        let page = FinalityProof {
            fragments: BoundedVec::try_from_vec(page.to_vec())
                .unwrap_or_else(|_| BoundedVec::new()),
            complete: false,
        };
        at = at.verify(&page)?;
    }
    Ok(at)
}

/// Why a warp attempt ended early.
#[derive(Debug, thiserror::Error)]
enum Stop {
    #[error("the node is stopping")]
    Shutdown,
    #[error(transparent)]
    Storage(#[from] aitbc_storage::StorageError),
}

struct Warp<S: StateMachine> {
    client: Arc<Client<S>>,
    net: SharedNetwork,
    shutdown: watch::Receiver<bool>,
}

/// Runs warp sync if `mode` asks for it (see the module docs); returns once the client stands
/// on the restored block, or at once when there is nothing to warp to. Gossip arriving meanwhile
/// is ignored.
pub async fn run<S: StateMachine>(
    client: Arc<Client<S>>,
    net: SharedNetwork,
    events: &mut mpsc::Receiver<NetworkEvent>,
    mode: SyncMode,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    // A database without a state (a warp sync started) can only finish its warp.
    let resuming = client.state_pending()?;
    let fresh = client.best().number == 0;
    if mode == SyncMode::Full || !(fresh || resuming) {
        if mode == SyncMode::Warp && !fresh {
            tracing::info!(target: "sync", "warp sync is for an empty database: syncing in full");
        }
        return Ok(());
    }
    let mut w = Warp {
        client,
        net: net.clone(),
        shutdown,
    };
    let work = w.warp(mode == SyncMode::Auto && !resuming);
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => {
                return match done {
                    Ok(()) | Err(Stop::Shutdown) => Ok(()),
                    Err(Stop::Storage(e)) => Err(anyhow::anyhow!(e).context("warp sync")),
                };
            }
            Some(event) = events.recv() => {
                if let NetworkEvent::Gossip { peer, message_id, .. } = event {
                    net.validation(message_id, peer, Validation::Ignore);
                }
            }
        }
    }
}

impl<S: StateMachine> Warp<S> {
    fn stopping(&self) -> Result<(), Stop> {
        if *self.shutdown.borrow() {
            return Err(Stop::Shutdown);
        }
        Ok(())
    }

    async fn pause(&mut self) -> Result<(), Stop> {
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => Ok(()),
            _ = self.shutdown.changed() => Err(Stop::Shutdown),
        }
    }

    async fn warp(&mut self, auto: bool) -> Result<(), Stop> {
        let started = Instant::now();
        // A restore in progress (after a restart) is resumed, unless its target went stale.
        let mut resume = true;
        loop {
            let context = match self.client.restore_progress()? {
                Some(p) if resume => decode_exact::<WarpContext>(&p.context).ok(),
                _ => None,
            };
            resume = false;
            let context = match context {
                Some(c) => c,
                None => match self.target(auto, started).await? {
                    Some(c) => c,
                    None => return Ok(()),
                },
            };
            match self.restore(context).await? {
                true => return Ok(()),
                // No peer could serve that target any more: a newer one.
                false => continue,
            }
        }
    }

    /// The genesis checkpoint of this chain.
    fn genesis(&self) -> Result<Checkpoint, Stop> {
        let hash = self.client.genesis_hash();
        let header = self
            .client
            .header(&hash)?
            .ok_or_else(|| aitbc_storage::StorageError::Corrupt("no genesis header".into()))?;
        Ok(Checkpoint::genesis(
            header,
            self.client.voter_set().authorities,
        ))
    }

    /// Peers that claimed a finalized block above `number` in their last status, best first.
    fn peers_above(&self, number: u64) -> Vec<PeerId> {
        let mut peers: Vec<_> = self
            .net
            .peers()
            .into_iter()
            .filter(|p| p.finalized_height > number)
            .collect();
        peers.sort_by_key(|p| std::cmp::Reverse(p.finalized_height));
        peers.into_iter().map(|p| p.peer_id).collect()
    }

    /// Steps 1 and 2 (module docs): a verified finality proof and the target block; `None` when
    /// `auto` finds nothing worth warping to.
    async fn target(&mut self, auto: bool, started: Instant) -> Result<Option<WarpContext>, Stop> {
        let genesis = self.genesis()?;
        loop {
            self.stopping()?;
            let min = if auto { AUTO_MIN_GAP } else { 1 };
            let peers = self.peers_above(min.saturating_sub(1));
            if peers.is_empty() {
                if auto && started.elapsed() >= AUTO_GRACE {
                    tracing::info!(target: "sync", "no peer far enough ahead to warp to: syncing in full");
                    return Ok(None);
                }
                self.pause().await?;
                continue;
            }
            for peer in peers {
                let Some((fragments, checkpoint)) = self.finality(peer, &genesis).await else {
                    continue;
                };
                if checkpoint.header.number == 0 {
                    continue;
                }
                let Some(block) = self.block(peer, &checkpoint.header).await else {
                    continue;
                };
                tracing::info!(target: "sync", target = checkpoint.header.number,
                    set_id = checkpoint.set_id, fragments = fragments.len(),
                    "warp: finality proven; downloading the state");
                return Ok(Some(WarpContext { fragments, block }));
            }
            self.pause().await?;
        }
    }

    /// Asks `peer` for the finality proof from genesis, page by page; `None` if it failed or lied
    /// (then charged).
    async fn finality(
        &self,
        peer: PeerId,
        genesis: &Checkpoint,
    ) -> Option<(Vec<WarpFragment>, Checkpoint)> {
        let mut at = genesis.clone();
        let mut fragments = Vec::new();
        loop {
            let from = at.header.number;
            let answer = self
                .net
                .request(peer, SyncRequest::FinalityProof { from })
                .await;
            let bytes = match answer {
                Ok(SyncResponse::FinalityProof(bytes)) => bytes,
                Ok(other) => {
                    tracing::debug!(target: "sync", %peer, ?other, "no finality proof");
                    return None;
                }
                Err(e) => {
                    tracing::debug!(target: "sync", %peer, error = %e, "finality proof request failed");
                    return None;
                }
            };
            let proof = match decode_exact::<FinalityProof>(&bytes) {
                Ok(p) => p,
                Err(_) => {
                    self.net.report(peer, Misbehaviour::Undecodable);
                    return None;
                }
            };
            match at.verify(&proof) {
                Ok(next) => {
                    let progressed = next.header.number > from;
                    fragments.extend(proof.fragments.iter().cloned());
                    at = next;
                    if proof.complete || !progressed {
                        return Some((fragments, at));
                    }
                }
                Err(e) => {
                    tracing::warn!(target: "sync", %peer, error = %e, "bad finality proof: banning the peer");
                    self.net.report(peer, Misbehaviour::BadProof);
                    return None;
                }
            }
        }
    }

    /// The block of `header` from `peer`, checked against it; `None` if it failed or lied.
    async fn block(&self, peer: PeerId, header: &Header) -> Option<Vec<u8>> {
        let hash = header.hash();
        let request = SyncRequest::BlocksByHash(BoundedVec::try_from_vec(vec![hash]).ok()?);
        let Ok(SyncResponse::Blocks(blocks)) = self.net.request(peer, request).await else {
            return None;
        };
        let bytes = blocks.into_iter().next()?;
        let block: SignedBlockOf<S> = match decode_exact(&bytes) {
            Ok(b) => b,
            Err(_) => {
                self.net.report(peer, Misbehaviour::Undecodable);
                return None;
            }
        };
        let leaves: Vec<Hash> = block.block.extrinsics.iter().map(|x| x.hash()).collect();
        if block.block.header != *header || extrinsics_root(&leaves) != header.extrinsics_root {
            self.net.report(peer, Misbehaviour::BadProof);
            return None;
        }
        Some(bytes)
    }

    /// Step 3 and 4 (module docs) for `context`'s target: `Ok(false)` when no peer can serve it.
    async fn restore(&mut self, context: WarpContext) -> Result<bool, Stop> {
        // Checked again: the context may come from the database of an earlier run.
        let mut checkpoint = self.genesis()?;
        for page in context
            .fragments
            .chunks(aitbc_primitives::warp::MAX_WARP_FRAGMENTS)
        {
            let page = FinalityProof {
                fragments: BoundedVec::try_from_vec(page.to_vec()).map_err(|_| corrupt("page"))?,
                complete: false,
            };
            checkpoint = checkpoint.verify(&page).map_err(corrupt)?;
        }
        let block: SignedBlockOf<S> = decode_exact(&context.block).map_err(corrupt)?;
        let target = BlockRef {
            number: checkpoint.header.number,
            hash: checkpoint.header.hash(),
        };
        let finish = Finish {
            block,
            fragments: context.fragments.clone(),
            set_id: checkpoint.set_id,
            authorities: checkpoint.authorities.clone(),
        };
        let (restorer, mut next_start) = Restorer::start(
            self.client.clone(),
            target,
            checkpoint.header.state_root,
            context.encode(),
        )
        .await?;
        if next_start != [0; 32] {
            tracing::info!(target: "sync", target = target.number,
                from = %Hash(next_start), "warp: resuming the state download");
        }
        let mut skipped = std::collections::BTreeSet::new();
        let mut progress = Progress::new();
        // One chunk at a time from here: the restore thread answers once it has checked a
        // chunk and written the one before it, and writes this one while the next is fetched
        // and checked. A kill loses at most two chunks: one being written, one being fetched
        // or checked.
        let mut turn = 0usize;
        loop {
            self.stopping()?;
            // Every peer past genesis, not only those whose last status (refreshed every 15 s)
            // reached the target: the one that proved it has it. One without it says so and is
            // skipped.
            let peers: Vec<PeerId> = self
                .peers_above(0)
                .into_iter()
                .filter(|p| !skipped.contains(p))
                .collect();
            if peers.is_empty() {
                if !skipped.is_empty()
                    && self
                        .net
                        .peers()
                        .iter()
                        .all(|p| skipped.contains(&p.peer_id))
                {
                    tracing::info!(target: "sync", target = target.number,
                        "warp: no peer serves the target's state any more; choosing a newer target");
                    return Ok(false);
                }
                self.pause().await?;
                continue;
            }
            // The peers in turn, one chunk each.
            let peer = peers[turn % peers.len()];
            turn += 1;
            let answer = self.ask_chunk(peer, target.number, next_start).await;
            let Some(chunk) = self.chunk_of(peer, answer) else {
                skipped.insert(peer);
                continue;
            };
            let done = !chunk.more;
            let counted = (
                chunk.entries.len(),
                chunk
                    .entries
                    .iter()
                    .map(|(k, v)| k.len() + v.len())
                    .sum::<usize>(),
                chunk.proof.len(),
            );
            let (result, next) = if chunk.entries.is_empty() {
                (Ok(()), next_start)
            } else {
                restorer.chunk(chunk).await?
            };
            next_start = next;
            match result {
                Ok(()) => progress.add(counted),
                Err(RestoreError::Chunk(e)) => {
                    tracing::warn!(target: "sync", %peer, error = %e, "bad state chunk: banning the peer");
                    self.net.report(peer, Misbehaviour::BadProof);
                    skipped.insert(peer);
                    continue;
                }
                Err(RestoreError::Storage(e)) => return Err(e.into()),
            }
            progress.log();
            if !done {
                continue;
            }
            let (result, next) = restorer.finish(finish.clone()).await?;
            next_start = next;
            match result {
                Ok(()) => {
                    progress.done(target.number);
                    return Ok(true);
                }
                // The peer claimed the end early: banned; the restore goes on from what is
                // persisted.
                Err(RestoreError::Chunk(e)) => {
                    tracing::warn!(target: "sync", %peer, error = %e, "state ended early: banning the peer");
                    self.net.report(peer, Misbehaviour::BadProof);
                    skipped.insert(peer);
                }
                Err(RestoreError::Storage(e)) => return Err(e.into()),
            }
        }
    }

    async fn ask_chunk(&self, peer: PeerId, number: u64, start: [u8; 32]) -> Answer {
        self.net
            .request(peer, SyncRequest::StateChunk { number, start })
            .await
    }

    /// The chunk in `peer`'s answer; `None` (charged if it is malformed) otherwise.
    fn chunk_of(&self, peer: PeerId, answer: Answer) -> Option<StateChunk> {
        match answer {
            Ok(SyncResponse::StateChunk(bytes)) => match decode_exact::<StateChunk>(&bytes) {
                Ok(c) => {
                    tracing::debug!(target: "sync", %peer, entries = c.entries.len(),
                        more = c.more, "warp: state chunk received");
                    Some(c)
                }
                Err(_) => {
                    self.net.report(peer, Misbehaviour::Undecodable);
                    None
                }
            },
            Ok(answer) => {
                tracing::debug!(target: "sync", %peer, ?answer, "no state chunk");
                None
            }
            Err(e) => {
                tracing::debug!(target: "sync", %peer, error = %e, "state chunk request failed");
                None
            }
        }
    }
}

/// A peer's answer to a request.
type Answer = Result<SyncResponse, aitbc_network::RequestError>;

/// What the state phase downloaded, logged every few seconds and at the end.
struct Progress {
    started: Instant,
    last_log: Instant,
    entries: usize,
    /// Bytes of the entries, and of the proofs (their overhead).
    state_bytes: usize,
    proof_bytes: usize,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            started: Instant::now(),
            last_log: Instant::now(),
            entries: 0,
            state_bytes: 0,
            proof_bytes: 0,
        }
    }

    fn add(&mut self, (entries, state_bytes, proof_bytes): (usize, usize, usize)) {
        self.entries += entries;
        self.state_bytes += state_bytes;
        self.proof_bytes += proof_bytes;
    }

    fn log(&mut self) {
        if self.last_log.elapsed() >= Duration::from_secs(5) {
            self.last_log = Instant::now();
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            tracing::info!(target: "sync", entries = self.entries,
                per_second = (self.entries as f64 / secs) as u64, "warp: downloading the state");
        }
    }

    fn done(&self, target: u64) {
        tracing::info!(target: "sync", target, entries = self.entries,
            state_bytes = self.state_bytes, proof_bytes = self.proof_bytes,
            secs = self.started.elapsed().as_secs_f64(),
            "warp: state restored; importing the blocks after it");
    }
}

/// What finishing a restore needs besides the state.
struct Finish<S: StateMachine> {
    block: SignedBlockOf<S>,
    fragments: Vec<WarpFragment>,
    set_id: u64,
    authorities: Vec<aitbc_primitives::AccountId>,
}

impl<S: StateMachine> Clone for Finish<S> {
    fn clone(&self) -> Self {
        Finish {
            block: self.block.clone(),
            fragments: self.fragments.clone(),
            set_id: self.set_id,
            authorities: self.authorities.clone(),
        }
    }
}

/// A step's outcome and the key hash the next chunk must start at.
type Step = (Result<(), RestoreError>, [u8; 32]);

enum Job<S: StateMachine> {
    Chunk(StateChunk, oneshot::Sender<Step>),
    Finish(Box<Finish<S>>, oneshot::Sender<Step>),
}

/// The restore runs on a thread of its own: jmt's restore cannot move between threads, and its
/// steps (hashing, durable writes) should not hold up the async workers. Each checked chunk is
/// written on a further thread while the next one is fetched and checked; a chunk is answered
/// once it is checked and the one before it is written.
struct Restorer<S: StateMachine> {
    jobs: std::sync::mpsc::Sender<Job<S>>,
}

impl<S: StateMachine> Restorer<S> {
    /// Starts (or resumes) the restore of `target` on its thread; returns where the next chunk
    /// starts.
    async fn start(
        client: Arc<Client<S>>,
        target: BlockRef,
        root: Hash,
        context: Vec<u8>,
    ) -> Result<(Restorer<S>, [u8; 32]), Stop> {
        let (jobs, inbox) = std::sync::mpsc::channel::<Job<S>>();
        let (ready, started) = oneshot::channel();
        std::thread::Builder::new()
            .name("warp-restore".into())
            .spawn(move || {
                let begin = || client.begin_restore(target, root, &context);
                let mut restore = match begin() {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let mut writer = match ChunkWriter::start(client.clone()) {
                    Ok(w) => w,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(restore.next_start()));
                for job in inbox {
                    match job {
                        Job::Chunk(chunk, reply) => {
                            let checked = restore.check(chunk);
                            let result = match (writer.written(), checked) {
                                (Err(e), _) => Err(RestoreError::Storage(e)),
                                (Ok(()), Err(e)) => match restore.reset() {
                                    Ok(()) => Err(RestoreError::Chunk(e)),
                                    Err(e) => Err(RestoreError::Storage(e)),
                                },
                                (Ok(()), Ok(checked)) => {
                                    writer.write(checked).map_err(RestoreError::Storage)
                                }
                            };
                            let _ = reply.send((result, restore.next_start()));
                        }
                        Job::Finish(f, reply) => {
                            if let Err(e) = writer.written() {
                                let _ = reply.send((Err(e.into()), restore.next_start()));
                                return;
                            }
                            let result = client.finish_restore(
                                restore,
                                &f.block,
                                &f.fragments,
                                f.set_id,
                                f.authorities,
                            );
                            let failed = result.is_err();
                            // After a refused end, resume from what is persisted.
                            let resumed = if failed { begin().ok() } else { None };
                            let next = resumed.as_ref().map_or([0; 32], |r| r.next_start());
                            let _ = reply.send((result, next));
                            match resumed {
                                Some(r) => restore = r,
                                None => return,
                            }
                        }
                    }
                }
                // Stopping: the write under way completes (a kill would only lose it).
                let _ = writer.written();
            })
            .map_err(|e| corrupt(format!("cannot start the restore thread: {e}")))?;
        let next = started.await.map_err(|_| Stop::Shutdown)??;
        Ok((Restorer { jobs }, next))
    }

    async fn ask(&self, job: impl FnOnce(oneshot::Sender<Step>) -> Job<S>) -> Result<Step, Stop> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(job(reply)).map_err(|_| Stop::Shutdown)?;
        answer.await.map_err(|_| Stop::Shutdown)
    }

    async fn chunk(&self, chunk: StateChunk) -> Result<Step, Stop> {
        self.ask(|reply| Job::Chunk(chunk, reply)).await
    }

    async fn finish(&self, finish: Finish<S>) -> Result<Step, Stop> {
        self.ask(|reply| Job::Finish(Box::new(finish), reply)).await
    }
}

/// Writes the restore's checked chunks in order, one at a time, on a thread of its own.
struct ChunkWriter {
    chunks: std::sync::mpsc::SyncSender<CheckedChunk>,
    done: std::sync::mpsc::Receiver<Result<(), StorageError>>,
    pending: bool,
}

impl ChunkWriter {
    fn start<S: StateMachine>(client: Arc<Client<S>>) -> Result<ChunkWriter, StorageError> {
        let (chunks, inbox) = std::sync::mpsc::sync_channel::<CheckedChunk>(1);
        let (results, done) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("warp-write".into())
            .spawn(move || {
                for chunk in inbox {
                    if results.send(client.persist_chunk(&chunk)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| StorageError::Corrupt(format!("cannot start the restore writer: {e}")))?;
        Ok(ChunkWriter {
            chunks,
            done,
            pending: false,
        })
    }

    /// Hands `chunk` over; call [`ChunkWriter::written`] before the next one.
    fn write(&mut self, chunk: CheckedChunk) -> Result<(), StorageError> {
        self.chunks.send(chunk).map_err(|_| Self::gone())?;
        self.pending = true;
        Ok(())
    }

    /// Waits until the chunk handed over last is written.
    fn written(&mut self) -> Result<(), StorageError> {
        if !std::mem::take(&mut self.pending) {
            return Ok(());
        }
        self.done.recv().map_err(|_| Self::gone())?
    }

    fn gone() -> StorageError {
        StorageError::Corrupt("the restore writer stopped".into())
    }
}

fn corrupt(e: impl std::fmt::Display) -> Stop {
    Stop::Storage(aitbc_storage::StorageError::Corrupt(format!(
        "warp sync record: {e}"
    )))
}
