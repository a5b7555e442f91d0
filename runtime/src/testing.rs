//! An in-memory chain for tests and benches (feature `testing`): dev keys, a dev genesis, and
//! block building/import on a [`MemoryState`], plus the invariant checks.

use crate::receipts::{storage as receipts_storage, Job};
use crate::{balances, Call, Event, GenesisConfig, Params, Runtime};
use aitbc_primitives::commitment::MemoryState;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{
    AccountId, Balance, Block, BlockContext, BlockError, BlockNumber, ComputeReceipt,
    ExecutedBlock, Extrinsic, Hash, Header, InvalidTransaction, Pair, ReceiptClaim, StateMachine,
    TxOutcome,
};

/// The dev key pair of a name (`//name`).
pub fn dev(name: &str) -> Pair {
    dev_pair(name)
}

/// The dev account of a name.
pub fn acc(name: &str) -> AccountId {
    dev_pair(name).public()
}

/// Endowment of each dev account.
pub const ENDOWMENT: Balance = 1_000_000_000;

/// A dev genesis: alice, bob, charlie, dave and ferdie endowed with [`ENDOWMENT`]; alice the
/// only authority and the sudo key; `coordinator` registered (not endowed); `treasury` the
/// treasury (not endowed); default parameters; 1 s slots.
pub fn dev_genesis(faucet: bool) -> GenesisConfig {
    GenesisConfig {
        slot_duration_ms: 1000,
        balances: ["alice", "bob", "charlie", "dave", "ferdie"]
            .iter()
            .map(|n| (acc(n), ENDOWMENT))
            .collect(),
        authorities: vec![acc("alice")],
        coordinators: vec![acc("coordinator")],
        sudo: Some(acc("alice")),
        treasury: acc("treasury"),
        faucet,
        params: Params::default(),
    }
}

/// A staking genesis: [`dev_genesis`] with the authorities alice, bob, charlie and dave, a
/// validator bond of 1,000, a bonding duration of 2 epochs, a challenge window of 10 blocks, 2
/// revocations banning a miner, `miner` endowed, and epochs of `epoch_length` blocks.
pub fn staking_genesis(epoch_length: u64) -> GenesisConfig {
    let mut g = dev_genesis(false);
    g.authorities = ["alice", "bob", "charlie", "dave"].map(acc).to_vec();
    g.params.min_validator_bond = 1_000;
    g.params.epoch_length = epoch_length;
    g.params.bonding_duration = 2;
    g.params.challenge_window = 10;
    g.params.max_revocations = 2;
    g.balances.push((acc("miner"), ENDOWMENT));
    g
}

/// A receipt for `(client, job_id)` signed by `miner` and attested by `coordinator` for the
/// chain with `genesis_hash`.
pub fn make_claim(
    genesis_hash: &Hash,
    client: &AccountId,
    job_id: u64,
    miner: &Pair,
    coordinator: &Pair,
    compute_units: u64,
    price: Balance,
) -> ReceiptClaim {
    let receipt = ComputeReceipt {
        job_id,
        client: *client,
        miner: miner.public(),
        coordinator: coordinator.public(),
        compute_units,
        price,
        output_hash: Hash::of(&job_id.to_le_bytes()),
    };
    ReceiptClaim {
        miner_sig: receipt.sign_as_miner(miner, genesis_hash),
        attestation: receipt.attest(coordinator, genesis_hash),
        receipt,
    }
}

/// A block built by [`TestChain::build_block`], with the result of every offered extrinsic.
#[derive(Debug, Clone)]
pub struct Built {
    pub block: Block<Extrinsic<Call>>,
    pub executed: ExecutedBlock<Event>,
    pub results: Vec<Result<TxOutcome<Event>, InvalidTransaction>>,
}

/// An in-memory chain: a runtime, the state after the head block, and the head header.
#[derive(Debug, Clone)]
pub struct TestChain {
    pub runtime: Runtime,
    pub state: MemoryState,
    pub head: Header,
    pub genesis: GenesisConfig,
}

impl TestChain {
    /// A chain at its genesis block.
    pub fn new(genesis: GenesisConfig) -> TestChain {
        let state = genesis.build_state().expect("test genesis is valid");
        let head = Header::genesis(state.root(), "test").expect("a short chain id");
        TestChain {
            runtime: Runtime::new(head.hash()),
            state,
            head,
            genesis,
        }
    }

    /// [`TestChain::new`] with [`dev_genesis`].
    pub fn dev(faucet: bool) -> TestChain {
        TestChain::new(dev_genesis(faucet))
    }

    pub fn genesis_hash(&self) -> Hash {
        self.runtime.genesis_hash()
    }

    pub fn number(&self) -> BlockNumber {
        self.head.number
    }

    pub fn balance(&self, who: &AccountId) -> Balance {
        self.runtime.account(&self.state, who).balance
    }

    pub fn nonce(&self, who: &AccountId) -> u64 {
        self.runtime.account(&self.state, who).nonce
    }

    /// Signs `call` by `who` with its current chain nonce.
    pub fn sign(&self, who: &Pair, call: Call) -> Extrinsic<Call> {
        let nonce = self.nonce(&who.public());
        self.sign_with(
            who,
            call,
            TxParams {
                nonce,
                ..Default::default()
            },
        )
    }

    pub fn sign_with(&self, who: &Pair, call: Call, params: TxParams) -> Extrinsic<Call> {
        Extrinsic::sign(who, call, params, self.genesis_hash())
    }

    /// Pool validation against the head state.
    pub fn validate(
        &self,
        xt: &Extrinsic<Call>,
    ) -> Result<aitbc_primitives::ValidTransaction, InvalidTransaction> {
        self.runtime.validate_transaction(&self.state, xt, false)
    }

    /// Builds the next block from `xts` (invalid ones are left out, as an author would), imports
    /// it into this chain and returns it. Its slot is the next one whose author is not disabled.
    pub fn build_block(&mut self, xts: &[Extrinsic<Call>]) -> Built {
        let schedule = self.runtime.author_schedule(&self.state);
        let disabled = crate::staking::read_disabled(&self.state);
        let mut slot = self.head.slot + 1;
        while schedule.author(slot).is_some_and(|a| disabled.contains(a)) {
            slot += 1;
        }
        let context = BlockContext {
            parent_hash: self.head.hash(),
            number: self.head.number + 1,
            slot,
        };
        let mut pending = self.runtime.initialize_block(&self.state, context);
        let mut included = Vec::new();
        let mut results = Vec::new();
        for xt in xts {
            let before = pending.changes.clone();
            let r = self
                .runtime
                .apply_extrinsic(&self.state, &mut pending, xt, false);
            if r.is_ok() {
                included.push(xt.clone());
            } else {
                assert_eq!(
                    before, pending.changes,
                    "an invalid extrinsic changed the pending block"
                );
            }
            results.push(r);
        }
        let executed = self
            .runtime
            .finalize_block(&self.state, pending)
            .expect("finalize");
        self.state
            .apply_update(&executed.changes, (*executed.commitment).clone());
        assert_eq!(self.state.root(), executed.header.state_root);
        self.head = executed.header.clone();
        Built {
            block: Block {
                header: executed.header.clone(),
                extrinsics: included,
            },
            executed,
            results,
        }
    }

    /// Builds a block with one extrinsic and returns its result.
    pub fn apply_one(
        &mut self,
        xt: Extrinsic<Call>,
    ) -> Result<TxOutcome<Event>, InvalidTransaction> {
        self.build_block(std::slice::from_ref(&xt))
            .results
            .remove(0)
    }

    /// Signs `call` by `who` and applies it in a block of its own.
    pub fn submit(
        &mut self,
        who: &Pair,
        call: Call,
    ) -> Result<TxOutcome<Event>, InvalidTransaction> {
        let xt = self.sign(who, call);
        self.apply_one(xt)
    }

    /// Builds empty blocks until the head is at `number`.
    pub fn advance_to(&mut self, number: BlockNumber) {
        while self.head.number < number {
            self.build_block(&[]);
        }
    }

    /// Imports a block built elsewhere.
    pub fn import(
        &mut self,
        block: &Block<Extrinsic<Call>>,
    ) -> Result<ExecutedBlock<Event>, BlockError> {
        let executed = self.runtime.execute_block(&self.state, block, false)?;
        self.state
            .apply_update(&executed.changes, (*executed.commitment).clone());
        self.head = executed.header.clone();
        Ok(executed)
    }

    pub fn total_issuance(&self) -> Balance {
        balances::storage::TOTAL_ISSUANCE
            .read(&self.state)
            .unwrap_or(0)
    }

    /// Every job escrow in the state.
    pub fn jobs(&self) -> Vec<((AccountId, u64), Job)> {
        let map = &receipts_storage::JOBS;
        self.state
            .values()
            .iter()
            .filter_map(|(k, v)| map.decode_entry(k, v))
            .collect()
    }

    /// The runtime's `try_state`: `total issuance == sum of balances + open escrows`.
    pub fn check_issuance(&self) -> Result<(), String> {
        self.runtime.try_state(
            &mut self
                .state
                .values()
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_slice())),
        )
    }
}
