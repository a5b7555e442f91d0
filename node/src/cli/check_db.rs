//! `check-db`: an offline check of a chain database (the node must be stopped).
//!
//! 1. The database opens (redb repairs it first if the node did not stop cleanly), belongs to
//!    the chain spec's genesis and has the supported schema.
//! 2. The canonical index runs from genesis to the best block, each block's parent is the block
//!    before it, and the best and finalized blocks are on it.
//! 3. Every best-chain block is re-executed from the genesis spec's state, in memory, with the
//!    runtime's executive (signatures checked again, the author's seal too): each must reach the
//!    state root in its header.
//! 4. Every transaction of every best-chain block (finalized or not) is in the `txs` index at
//!    its block and position, with the outcome the re-execution gave.
//! 5. The stored flat state equals the re-executed state key by key (so it hashes to the best
//!    block's state root).
//! 6. The runtime's `try_state` holds: total issuance equals the sum of all balances plus the
//!    open job escrows.
//! 7. The stored state tree holds every node of the re-executed tree, byte for byte, and any
//!    other node it holds is recorded as stale (replaced, waiting for the pruner).
//!
//! There is no `--from`: state is only stored at the best block, so checking any block means
//! re-executing from genesis (about as fast as importing: thousands of transactions a second).
//! A database that started from a restored state (warp sync, `import-state`) has no blocks
//! below it: for it the check is the canonical links from there, the stored state against the
//! best block's root, and the invariants (`check_restored`).

use super::args::CheckDbArgs;
use crate::service::{chain_dir, CHAIN_DB_FILE};
use aitbc_chain_spec::ChainSpec;
use aitbc_primitives::commitment::MemoryState;
use aitbc_primitives::{decode_exact, Extrinsic, Hash, SignedBlock, StateMachine};
use aitbc_runtime::{Call, Runtime};
use aitbc_storage::{encode_node_key, BlockRef, ChainDb, StorageError};
use anyhow::{anyhow, bail};
use codec::Encode;

/// What a passed check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Blocks re-executed (genesis excluded).
    pub blocks: u64,
    pub best: BlockRef,
    pub finalized: BlockRef,
    /// Transactions found in the index.
    pub txs: u64,
    pub state_root: Hash,
    pub issuance: u128,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ok: {} blocks re-executed to best #{} ({}), finalized #{}, {} txs indexed, \
             state root {}, issuance {} = balances + escrows",
            self.blocks,
            self.best.number,
            self.best.hash.short(),
            self.finalized.number,
            self.txs,
            self.state_root.short(),
            self.issuance
        )
    }
}

/// The `check-db` command: opens `BASE/chains/<id>/chain.redb` and checks it.
pub fn run(args: &CheckDbArgs) -> anyhow::Result<Summary> {
    let spec = ChainSpec::load(&args.chain)?;
    let path = match (&args.db, &args.base_path) {
        (Some(p), _) => p.clone(),
        (None, Some(base)) => chain_dir(base, &spec.id).join(CHAIN_DB_FILE),
        (None, None) => bail!("give --base-path or --db"),
    };
    let db = ChainDb::open_existing(&path).map_err(|e| match e {
        StorageError::Db(redb::Error::DatabaseAlreadyOpen) => {
            anyhow!("{} is in use: stop the node first", path.display())
        }
        e => anyhow!("cannot open {}: {e}", path.display()),
    })?;
    check(&db, &spec)
}

/// Checks `db` against `spec`'s chain (see the module docs). The error is one line.
pub fn check(db: &ChainDb, spec: &ChainSpec) -> anyhow::Result<Summary> {
    let genesis = spec.genesis()?;
    let found = db.genesis_hash()?;
    if found != genesis.hash {
        bail!(
            "the database is another chain's (genesis {found}, {}'s is {})",
            spec.id,
            genesis.hash
        );
    }
    if db.state_pending()? {
        bail!(
            "the database has no state yet: a state restore (warp sync or import-state) is \
             unfinished; start the node to finish it, or with --sync full to drop it"
        );
    }
    let best = db.best()?;
    let finalized = db.finalized()?;
    if finalized.number > best.number {
        bail!(
            "finalized #{} is above best #{}",
            finalized.number,
            best.number
        );
    }
    for (what, at) in [("best", best), ("finalized", finalized)] {
        let canonical = db.hash_at(at.number)?;
        if canonical != Some(at.hash) {
            bail!(
                "{what} block #{} {} is not on the canonical index ({canonical:?})",
                at.number,
                at.hash
            );
        }
    }
    if let Some(h) = db.hash_at(best.number + 1)? {
        bail!("the canonical index goes past best #{}: {h}", best.number);
    }
    if db.hash_at(0)? != Some(genesis.hash) {
        bail!("block #0 is not the genesis block");
    }
    for (hash, number) in db.unfinalized()? {
        if number <= finalized.number {
            bail!(
                "block {hash} #{number} is marked unfinalized below finalized #{}",
                finalized.number
            );
        }
    }

    let runtime = Runtime::new(genesis.hash);
    if db.hash_at(1)?.is_none() && best.number > 0 {
        return check_restored(db, &runtime, best, finalized);
    }
    let mut state: MemoryState = genesis.state.to_memory_state();
    if state.root() != genesis.header.state_root {
        bail!("the genesis state does not match the genesis header");
    }
    let mut parent = genesis.hash;
    let mut txs = 0u64;
    for n in 1..=best.number {
        let hash = db
            .hash_at(n)?
            .ok_or_else(|| anyhow!("block #{n} is missing from the canonical index"))?;
        let bytes = db
            .block(&hash)?
            .ok_or_else(|| anyhow!("block #{n} {hash} is indexed but not stored"))?;
        let block: SignedBlock<Extrinsic<Call>> =
            decode_exact(&bytes).map_err(|e| anyhow!("block #{n} {hash} does not decode: {e}"))?;
        let header = &block.block.header;
        if header.hash() != hash || header.number != n || header.parent_hash != parent {
            bail!("block #{n} {hash}: header hash, number or parent does not match the index");
        }
        if db.header(&hash)?.as_deref() != Some(header.encode().as_slice()) {
            bail!("block #{n} {hash}: the stored header differs from the block's");
        }
        let author = db
            .author(&hash)?
            .ok_or_else(|| anyhow!("block #{n} {hash} has no recorded author"))?;
        if !block.seal_is_valid(&author) {
            bail!("block #{n} {hash}: bad seal for its recorded author {author}");
        }
        let executed = runtime
            .execute_block(&state, &block.block, false)
            .map_err(|e| anyhow!("block #{n} {hash} does not re-execute: {e}"))?;
        if executed.header.state_root != header.state_root {
            bail!(
                "block #{n} {hash}: re-executed state root {} != header's {}",
                executed.header.state_root,
                header.state_root
            );
        }
        for (i, (xt, outcome)) in block
            .block
            .extrinsics
            .iter()
            .zip(&executed.outcomes)
            .enumerate()
        {
            let tx = Hash::of(&xt.encode());
            let record = db.tx(&tx)?.ok_or_else(|| {
                anyhow!("tx {tx} of block #{n} (index {i}) is missing from the txs index")
            })?;
            if record.block != (BlockRef { number: n, hash }) || record.index as usize != i {
                bail!(
                    "tx {tx} of block #{n} index {i} is indexed at #{} index {}",
                    record.block.number,
                    record.index
                );
            }
            if record.outcome != outcome.encode() {
                bail!("tx {tx} of block #{n}: stored outcome differs from the re-executed one");
            }
            txs += 1;
        }
        state.apply_update(
            &executed.changes,
            std::sync::Arc::unwrap_or_clone(executed.commitment),
        );
        parent = hash;
    }

    let best_header = db
        .header(&best.hash)?
        .ok_or_else(|| anyhow!("best block {} has no header", best.hash))?;
    let best_header: aitbc_primitives::Header =
        decode_exact(&best_header).map_err(|e| anyhow!("best header does not decode: {e}"))?;
    if state.root() != best_header.state_root {
        bail!(
            "re-executed state root {} != best block's {}",
            state.root(),
            best_header.state_root
        );
    }
    let stored = db.state_entries()?;
    let expected = state.values();
    if stored.len() != expected.len() {
        bail!(
            "stored state has {} keys, the re-executed state {}",
            stored.len(),
            expected.len()
        );
    }
    for (k, v) in &stored {
        if expected.get(k) != Some(v) {
            bail!(
                "stored state differs from the re-executed state at key 0x{}",
                hex::encode(k)
            );
        }
    }

    check_tree(db, &state)?;

    let issuance = invariants(&runtime, &state)?;
    Ok(Summary {
        blocks: best.number,
        best,
        finalized,
        txs,
        state_root: state.root(),
        issuance,
    })
}

/// A database that started from a restored state (warp sync, `import-state`) holds no blocks
/// below that state's block, so nothing can be re-executed from genesis. What is checked: the
/// canonical index links every held block to its parent from the restored block up to the best,
/// the stored state hashes to the best block's state root, and the state machine's invariants
/// hold on it.
fn check_restored(
    db: &ChainDb,
    runtime: &Runtime,
    best: BlockRef,
    finalized: BlockRef,
) -> anyhow::Result<Summary> {
    let header_at = |hash: &Hash| -> anyhow::Result<aitbc_primitives::Header> {
        let bytes = db
            .header(hash)?
            .ok_or_else(|| anyhow!("block {hash} has no header"))?;
        decode_exact(&bytes).map_err(|e| anyhow!("header {hash} does not decode: {e}"))
    };
    let mut hash = best.hash;
    let mut header = header_at(&hash)?;
    let best_root = header.state_root;
    let mut blocks = 0u64;
    while let Some(parent) = db.hash_at(header.number - 1)? {
        if header.parent_hash != parent || db.hash_at(header.number)? != Some(hash) {
            bail!(
                "block #{} {hash} does not link to the canonical block below it",
                header.number
            );
        }
        if header.number == 1 {
            break;
        }
        hash = parent;
        header = header_at(&hash)?;
        blocks += 1;
    }
    let mut state = MemoryState::new();
    let entries = db.state_entries()?;
    let changes: aitbc_primitives::StateChanges = entries
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    state.apply(&changes)?;
    if state.root() != best_root {
        bail!(
            "the stored state hashes to {}, not the best block's state root {best_root}",
            state.root()
        );
    }
    let issuance = invariants(runtime, &state)?;
    Ok(Summary {
        blocks,
        best,
        finalized,
        txs: 0,
        state_root: state.root(),
        issuance,
    })
}

/// Step 6 (see the module docs): the state machine's own invariants (AITBC: issuance), the
/// same check its tests run; returns the total issuance.
fn invariants(runtime: &Runtime, state: &MemoryState) -> anyhow::Result<u128> {
    let entries = || {
        state
            .values()
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    };
    runtime
        .try_state(&mut entries())
        .map_err(|e| anyhow!("state invariant broken: {e}"))?;
    Ok(aitbc_runtime::invariants::issuance(&mut entries())
        .map_err(|e| anyhow!(e))?
        .total_issuance)
}

/// Step 7 (see the module docs).
fn check_tree(db: &ChainDb, state: &MemoryState) -> anyhow::Result<()> {
    let mut live = std::collections::BTreeMap::new();
    for (key, node) in state.nodes() {
        live.insert(encode_node_key(key)?, borsh::to_vec(node)?);
    }
    let stale = db.stale_keys()?;
    let mut found = 0usize;
    for (k, v) in db.tree_entries()? {
        match live.get(&k) {
            Some(node) if *node == v => found += 1,
            Some(_) => bail!(
                "stored tree node 0x{} differs from the re-executed one",
                hex::encode(&k)
            ),
            None if stale.contains(&k) => {}
            None => bail!(
                "stored tree node 0x{} is neither in the best state's tree nor recorded as stale",
                hex::encode(&k)
            ),
        }
    }
    if found != live.len() {
        bail!(
            "the stored tree lacks {} of the best state's {} nodes",
            live.len() - found,
            live.len()
        );
    }
    Ok(())
}
