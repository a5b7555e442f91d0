//! `export-blocks` / `import-blocks` and `export-state` / `import-state`: a chain's blocks or a
//! finalized state in a file, and back, checked on the way in as sync checks them.
//!
//! File format (SCALE, streamed: neither side holds a whole file in memory): an
//! [`ArchiveHeader`] (magic, version, kind, the chain's genesis hash), then
//! - blocks: each `SignedBlock` (with its justification if the node kept one) as a
//!   length-prefixed byte string, in height order, to the end of the file;
//! - state: the finality proof from genesis to the exported block (`Vec<WarpFragment>`, its last
//!   fragment is the block), the block (a byte string), then `StateChunk`s (byte strings) in
//!   key-hash order, the last with `more = false`.
//!
//! Import refuses a file of another chain or kind. `import-blocks` imports each block through
//! the client's one import path (seal, author schedule, execution, state root) and finalizes
//! it by its justification once that is verified against the voter set; blocks already held are
//! skipped, so an interrupted import is simply run again. `import-state` verifies the finality
//! proof from the genesis authorities, then restores the state chunk by chunk against the
//! block's state root (`aitbc_storage::StateRestore`): into an empty database only, resumable
//! after a kill (run it again), and the node then starts on that block.

use super::args::{ExportBlocksArgs, ExportStateArgs, ImportArgs};
use crate::service::{chain_dir, open_client, open_client_with, CHAIN_DB_FILE};
use crate::workers::warp::{verify_from, WarpContext};
use aitbc_chain_spec::ChainSpec;
use aitbc_client::{Client, ImportError, SignedBlockOf};
use aitbc_primitives::snapshot::StateChunk;
use aitbc_primitives::warp::{Checkpoint, WarpFragment};
use aitbc_primitives::{commitment::key_hash, decode_exact, Hash, VoteTarget};
use aitbc_runtime::Runtime;
use aitbc_storage::BlockRef;
use aitbc_storage::GenesisState;
use anyhow::{anyhow, bail, Context};
use codec::{Decode, Encode, IoReader};
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

const MAGIC: [u8; 8] = *b"AITBCARC";
const VERSION: u16 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
enum Kind {
    Blocks,
    State,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
struct ArchiveHeader {
    magic: [u8; 8],
    version: u16,
    kind: Kind,
    genesis: Hash,
}

/// Opens the chain database of a stopped node (it must exist).
fn open_existing(chain: &str, base: &Path) -> anyhow::Result<(ChainSpec, Client<Runtime>)> {
    let spec = ChainSpec::load(chain)?;
    let path = chain_dir(base, &spec.id).join(CHAIN_DB_FILE);
    if !path.exists() {
        bail!("no chain database at {}", path.display());
    }
    let client = open_client(&spec, &path, Default::default())
        .with_context(|| format!("cannot open {} (is the node stopped?)", path.display()))?;
    Ok((spec, client))
}

/// Opens (or creates) the chain database an import writes into: `import-state` needs no
/// genesis state (it restores another), `import-blocks` executes on it.
fn open_for_import(
    chain: &str,
    base: &Path,
    state_policy: GenesisState,
) -> anyhow::Result<Client<Runtime>> {
    let spec = ChainSpec::load(chain)?;
    let dir = chain_dir(base, &spec.id);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(CHAIN_DB_FILE);
    open_client_with(&spec, &path, Default::default(), state_policy)
        .with_context(|| format!("cannot open {} (is the node stopped?)", path.display()))
}

fn write_item(out: &mut impl Write, bytes: &[u8]) -> anyhow::Result<()> {
    out.write_all(&bytes.encode())?;
    Ok(())
}

/// The next length-prefixed item, `None` at the end of the file.
fn read_item(input: &mut BufReader<std::fs::File>) -> anyhow::Result<Option<Vec<u8>>> {
    use std::io::BufRead;
    if input.fill_buf()?.is_empty() {
        return Ok(None);
    }
    Vec::<u8>::decode(&mut IoReader(input))
        .map(Some)
        .map_err(|e| anyhow!("the file is truncated or corrupt: {e}"))
}

fn open_archive(
    file: &Path,
    kind: Kind,
    genesis: Hash,
) -> anyhow::Result<BufReader<std::fs::File>> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut input = BufReader::new(f);
    let header = ArchiveHeader::decode(&mut IoReader(&mut input))
        .map_err(|_| anyhow!("{} is not an AITBC export", file.display()))?;
    if header.magic != MAGIC || header.version != VERSION {
        bail!(
            "{} is not an AITBC export of version {VERSION}",
            file.display()
        );
    }
    if header.kind != kind {
        bail!("{} holds {:?}, not {kind:?}", file.display(), header.kind);
    }
    if header.genesis != genesis {
        bail!(
            "{} is of another chain (genesis {}, this chain's is {genesis})",
            file.display(),
            header.genesis
        );
    }
    Ok(input)
}

fn create_archive(
    file: &Path,
    kind: Kind,
    genesis: Hash,
) -> anyhow::Result<BufWriter<std::fs::File>> {
    let f =
        std::fs::File::create(file).with_context(|| format!("cannot create {}", file.display()))?;
    let mut out = BufWriter::new(f);
    let header = ArchiveHeader {
        magic: MAGIC,
        version: VERSION,
        kind,
        genesis,
    };
    out.write_all(&header.encode())?;
    Ok(out)
}

/// `export-blocks`: the canonical blocks `--from`..=`--to` (default: genesis's child to the
/// best block). Returns a one-line summary.
pub fn export_blocks(args: &ExportBlocksArgs) -> anyhow::Result<String> {
    let (_, client) = open_existing(&args.chain, &args.base_path)?;
    let best = client.best().number;
    let (from, to) = (args.from.max(1), args.to.unwrap_or(best).min(best));
    if from > to {
        bail!("nothing to export: --from {from} is above --to {to} (best #{best})");
    }
    if client.hash_at(from)?.is_none() {
        bail!("block #{from} is not in this database (it was warp-synced or pruned past it)");
    }
    let mut out = create_archive(&args.file, Kind::Blocks, client.genesis_hash())?;
    for n in from..=to {
        let hash = client
            .hash_at(n)?
            .ok_or_else(|| anyhow!("block #{n} is missing from the canonical index"))?;
        let (block, _) = client
            .block(&hash)?
            .ok_or_else(|| anyhow!("block #{n} {hash} is missing"))?;
        write_item(&mut out, &block.encode())?;
    }
    out.flush()?;
    Ok(format!(
        "exported blocks #{from}..#{to} to {}",
        args.file.display()
    ))
}

/// `import-blocks` (see the module docs). Returns a one-line summary.
pub fn import_blocks(args: &ImportArgs) -> anyhow::Result<String> {
    let client = open_for_import(&args.chain, &args.base_path, GenesisState::Ensure)?;
    let mut input = open_archive(&args.file, Kind::Blocks, client.genesis_hash())?;
    let started = std::time::Instant::now();
    let (mut imported, mut skipped, mut txs) = (0u64, 0u64, 0usize);
    while let Some(bytes) = read_item(&mut input)? {
        let block: SignedBlockOf<Runtime> = decode_exact(&bytes)
            .map_err(|e| anyhow!("a block in the file does not decode: {e}"))?;
        let number = block.block.header.number;
        match client.import_block(&block, None) {
            Ok(_) => {
                imported += 1;
                txs += block.block.extrinsics.len();
            }
            Err(ImportError::AlreadyKnown(_) | ImportError::BelowFinalized { .. }) => skipped += 1,
            Err(e) => bail!("block #{number} refused: {e}"),
        }
        if let Some(j) = &block.justification {
            let set = client.voter_set();
            let target = VoteTarget {
                hash: block.hash(),
                number,
            };
            if j.target == target && number > client.finalized().number {
                j.verify(&set.authorities, set.id, &client.genesis_hash())
                    .map_err(|e| anyhow!("the justification of block #{number} is refused: {e}"))?;
                client.finalize(
                    BlockRef {
                        number,
                        hash: target.hash,
                    },
                    Some(j.encode()),
                )?;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    Ok(format!(
        "imported {imported} blocks ({skipped} already held), {txs} transactions in {secs:.1} s \
         ({:.0} tx/s); best #{}, finalized #{}",
        txs as f64 / secs,
        client.best().number,
        client.finalized().number
    ))
}

/// `export-state`: the state of the highest justified block at or below `--at` (default: the
/// latest), with its finality proof. Returns a one-line summary.
pub fn export_state(args: &ExportStateArgs) -> anyhow::Result<String> {
    let (_, client) = open_existing(&args.chain, &args.base_path)?;
    let fragments = client.finality_proof_to(args.at.unwrap_or(u64::MAX))?;
    let target = fragments
        .last()
        .map(|f| f.header.clone())
        .ok_or_else(|| anyhow!("no justified block at or below that height to export"))?;
    let number = target.number;
    let (block, _) = client
        .block(&target.hash())?
        .ok_or_else(|| anyhow!("block #{number} is missing"))?;
    let mut out = create_archive(&args.file, Kind::State, client.genesis_hash())?;
    out.write_all(&fragments.encode())?;
    write_item(&mut out, &block.encode())?;
    let (mut start, mut entries, mut chunks) = ([0u8; 32], 0usize, 0usize);
    loop {
        let chunk = client.state_chunk(number, start, args.chunk_bytes)?;
        write_item(&mut out, &chunk.encode())?;
        entries += chunk.entries.len();
        chunks += 1;
        match (chunk.more, chunk.next_start()) {
            (true, Some(next)) => start = next,
            _ => break,
        }
    }
    out.flush()?;
    Ok(format!(
        "exported the state of finalized block #{number} ({entries} entries in {chunks} chunks, \
         {} finality fragments) to {}",
        fragments.len(),
        args.file.display()
    ))
}

/// `import-state` (see the module docs). Returns a one-line summary.
pub fn import_state(args: &ImportArgs) -> anyhow::Result<String> {
    let client = open_for_import(&args.chain, &args.base_path, GenesisState::Skip)?;
    let genesis = client.genesis_hash();
    let mut input = open_archive(&args.file, Kind::State, genesis)?;
    if client.best().number != 0 && client.restore_progress()?.is_none() {
        bail!(
            "import-state needs an empty database: this one is at #{} (run purge-chain first)",
            client.best().number
        );
    }
    let fragments = Vec::<WarpFragment>::decode(&mut IoReader(&mut input))
        .map_err(|e| anyhow!("the finality proof in the file does not decode: {e}"))?;
    let genesis_header = client
        .header(&genesis)?
        .ok_or_else(|| anyhow!("the database has no genesis header"))?;
    let start = Checkpoint::genesis(genesis_header, client.voter_set().authorities);
    let checkpoint = verify_from(&start, &fragments)
        .map_err(|e| anyhow!("the file's finality proof is refused: {e}"))?;
    let block_bytes = read_item(&mut input)?.ok_or_else(|| anyhow!("the file has no block"))?;
    let block: SignedBlockOf<Runtime> =
        decode_exact(&block_bytes).map_err(|e| anyhow!("the block does not decode: {e}"))?;
    let header = &checkpoint.header;
    if block.block.header != *header {
        bail!("the file's block is not the one its finality proof ends at");
    }
    let target = BlockRef {
        number: header.number,
        hash: header.hash(),
    };
    let context = WarpContext {
        fragments: fragments.clone(),
        block: block_bytes,
    };
    let mut restore = client.begin_restore(target, header.state_root, &context.encode())?;
    let started = std::time::Instant::now();
    let mut entries = 0usize;
    loop {
        let item =
            read_item(&mut input)?.ok_or_else(|| anyhow!("the file ends before the state does"))?;
        let mut chunk: StateChunk =
            decode_exact(&item).map_err(|e| anyhow!("a state chunk does not decode: {e}"))?;
        // After a resumed import, skip what is already restored (a suffix of a chunk keeps its
        // proof: the range proof is of the chunk's last key).
        let next = restore.next_start();
        chunk.entries.retain(|(k, _)| key_hash(k) >= next);
        let more = chunk.more;
        if !chunk.entries.is_empty() {
            entries += chunk.entries.len();
            client
                .add_chunk(&mut restore, chunk)
                .map_err(|e| anyhow!("a state chunk is refused: {e}"))?;
        }
        if !more {
            break;
        }
    }
    client
        .finish_restore(
            restore,
            &block,
            &fragments,
            checkpoint.set_id,
            checkpoint.authorities.clone(),
        )
        .map_err(|e| anyhow!("the state is refused: {e}"))?;
    Ok(format!(
        "imported the state of finalized block #{} ({entries} entries in {:.1} s); the node \
         starts there",
        target.number,
        started.elapsed().as_secs_f64()
    ))
}
