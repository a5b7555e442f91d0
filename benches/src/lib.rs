//! Benchmarks (criterion, in `benches/`) and the end-to-end load tool (`aitbc-load`, driven by
//! `scripts/bench.sh`).
//!
//! Every criterion benchmark id is `module::op/param=value` (the criterion group is
//! `module::op`, the function id `param=value`). [`fixture`] holds the setup the benches share.

pub mod fixture {
    //! Shared bench setup: sender accounts, a genesis that endows them, and full blocks of
    //! signed transfers where each sender pays its neighbour (what `aitbc-load` sends).

    use aitbc_primitives::commitment::MemoryState;
    use aitbc_primitives::extrinsic::TxParams;
    use aitbc_primitives::{
        Block, BlockContext, ExecutedBlock, Extrinsic, Hash, InvalidTransaction, Pair, StateMachine,
    };
    use aitbc_runtime::{Call, Event, GenesisConfig, Params, Runtime};

    /// The most transfers a bench offers a block: the `max_block_txs` default (20,000 signed
    /// transfers, about 3 MiB, also fit `max_block_bytes`). Whether they all fit depends on the
    /// runtime's other limits (block weight): [`full_block_len`] says how many do.
    pub const FULL_BLOCK: usize = 20_000;

    /// How many of `xts` (in order) fit one block on `state` under every limit of the runtime
    /// (count, bytes, weight): the size of a full block, as the dev node fills it when its pool
    /// holds enough.
    pub fn full_block_len(rt: &Runtime, state: &MemoryState, xts: &[Extrinsic<Call>]) -> usize {
        let ctx = BlockContext {
            parent_hash: Hash::ZERO,
            number: 1,
            slot: 1,
        };
        let mut pending = rt.initialize_block(state, ctx);
        for (i, xt) in xts.iter().enumerate() {
            match rt.apply_extrinsic(state, &mut pending, xt, true) {
                Ok(_) => {}
                Err(InvalidTransaction::ExhaustsResources) => return i,
                Err(e) => panic!("transaction {i} is invalid: {e}"),
            }
        }
        xts.len()
    }

    /// Runs `f` over `0..n` on all cores, results in order.
    pub fn par_map<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
        let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
        let chunk = n.div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let f = &f;
            let handles: Vec<_> = (0..n)
                .step_by(chunk)
                .map(|start| {
                    scope.spawn(move || (start..(start + chunk).min(n)).map(f).collect::<Vec<R>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("bench worker thread"))
                .collect()
        })
    }

    /// `n` sender keys `//bench//<i>` (the accounts `aitbc-load` uses).
    pub fn senders(n: usize) -> Vec<Pair> {
        par_map(n, |i| {
            Pair::from_uri(&format!("//bench//{i}")).expect("valid uri")
        })
    }

    /// A signed transfer of `amount` from `from` to `to`.
    pub fn transfer(
        from: &Pair,
        to: aitbc_primitives::AccountId,
        amount: u128,
        nonce: u64,
        genesis: Hash,
    ) -> Extrinsic<Call> {
        let params = TxParams {
            nonce,
            ..TxParams::default()
        };
        Extrinsic::sign(from, Call::transfer(to, amount), params, genesis)
    }

    /// One transfer per sender, each paying its neighbour 1, with nonce `nonce` (signed on all
    /// cores).
    pub fn neighbour_transfers(
        senders: &[Pair],
        nonce: u64,
        genesis: Hash,
    ) -> Vec<Extrinsic<Call>> {
        let n = senders.len();
        par_map(n, |i| {
            transfer(
                &senders[i],
                senders[(i + 1) % n].public(),
                1,
                nonce,
                genesis,
            )
        })
    }

    /// A genesis (single authority //alice) endowing every sender.
    pub fn genesis_config(senders: &[Pair]) -> GenesisConfig {
        let alice = Pair::from_uri("//alice").expect("uri").public();
        GenesisConfig {
            slot_duration_ms: 1000,
            balances: senders
                .iter()
                .map(|p| (p.public(), 1_000_000_000_000))
                .collect(),
            authorities: vec![alice],
            coordinators: vec![],
            sudo: Some(alice),
            treasury: Pair::from_uri("//treasury").expect("uri").public(),
            faucet: false,
            params: Params::default(),
        }
    }

    /// The dev chain spec, named `id`, with every sender endowed as in [`genesis_config`]
    /// (benches that run a real client from a spec).
    pub fn dev_spec(id: &str, senders: &[Pair]) -> aitbc_chain_spec::ChainSpec {
        let mut spec = aitbc_chain_spec::ChainSpec::dev();
        spec.id = id.into();
        spec.genesis.balances.extend(
            senders
                .iter()
                .map(|p| aitbc_chain_spec::Endowment(p.public().to_string(), 1_000_000_000_000)),
        );
        spec
    }

    /// A runtime and the in-memory genesis state of [`genesis_config`].
    pub fn genesis_state(senders: &[Pair]) -> (Runtime, MemoryState, Hash) {
        let mut state = MemoryState::new();
        state
            .apply(&genesis_config(senders).build().expect("genesis"))
            .expect("commit");
        let genesis = Hash::of(b"bench genesis");
        (Runtime::new(genesis), state, genesis)
    }

    /// Executes `xts` as block `number` on `state` (signatures pre-verified, as the author
    /// does) and returns the block and what it did.
    pub fn build_block(
        rt: &Runtime,
        state: &MemoryState,
        parent_hash: Hash,
        number: u64,
        xts: &[Extrinsic<Call>],
    ) -> (Block<Extrinsic<Call>>, ExecutedBlock<Event>) {
        let ctx = BlockContext {
            parent_hash,
            number,
            slot: number,
        };
        let mut pending = rt.initialize_block(state, ctx);
        for xt in xts {
            rt.apply_extrinsic(state, &mut pending, xt, true)
                .expect("valid transaction");
        }
        let executed = rt.finalize_block(state, pending).expect("finalize");
        let block = Block {
            header: executed.header.clone(),
            extrinsics: xts.to_vec(),
        };
        (block, executed)
    }

    /// What an importer does with `block` on `state`, without storage: batch-verifies its
    /// signatures, then re-executes it with the state-root check.
    pub fn import_block(
        rt: &Runtime,
        state: &MemoryState,
        block: &Block<Extrinsic<Call>>,
    ) -> ExecutedBlock<Event> {
        rt.check_signatures(&block.extrinsics)
            .expect("valid signatures");
        rt.execute_block(state, block, true).expect("valid block")
    }
}
