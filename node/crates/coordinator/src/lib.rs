//! The mock coordinator: a real HTTP service that attests compute receipts with a real sr25519
//! key, standing in for the AITBC coordinator that matches jobs to miners.
//!
//! Protocol (the interface coordinators and miners rely on; the README shows it in use):
//! - `POST /attest/receipt` with a receipt `{job_id, client, miner, coordinator, compute_units,
//!   price, output_hash}` answers `{exists, paid, not_double_spent, coordinator, receipt_id,
//!   attestation}`. The attestation is the coordinator's signature (context
//!   `aitbc-receipt-attest`) over the receipt bytes followed by the chain's genesis hash, exactly
//!   what `receipts.claim` verifies on chain.
//! - Escrows: with a node to ask (`mock-coordinator --rpc URL`), the chain decides, read at the
//!   node's best block before each attestation ([`Escrow`]): no escrow for (client, job_id) is
//!   `exists: false`, an escrow not open any more (claimed or refunded) `paid: false`, both
//!   without attestation; an escrow that names another coordinator (409
//!   `not_escrow_coordinator`), whose price is below the receipt's (409 `price_exceeds_escrow`),
//!   or a receipt over the chain's `max_units_per_receipt` (400 `too_many_units`) is refused; a
//!   node that cannot be read is 503 `chain_unavailable`. Without a node (tests, offline use):
//!   job ids `1..=1_000_000` exist and are paid; others get `exists: false`.
//! - At most one receipt is attested per (client, job_id): the same receipt again gets the same
//!   attestation, a different one `not_double_spent: false` and no attestation.
//! - `GET /health`.
//!
//! Memory of attested receipts: in memory ([`Coordinator::new`], gone on exit) or in a redb file
//! ([`Coordinator::open`]; `mock-coordinator --db PATH` or `--base-path DIR`). The file has two
//! tables: `meta` (the chain's genesis hash and a schema version: a database of another chain is
//! refused) and `attested` (coordinator ++ client ++ big-endian job id -> SCALE
//! `(ComputeReceipt, Signature)`). Each new attestation is committed durably *before* it is
//! returned, so a coordinator restarted after a crash never signs two different receipts for one
//! (client, job_id). At most [`MAX_ATTESTED`] receipts are kept either way (503 beyond).

mod server;

pub use server::{serve, CoordinatorHandle};

use aitbc_primitives::{
    AccountId, Balance, ComputeReceipt, Hash, JobId, JobInfo, JobStatus, Pair, Signature,
};
use codec::{Decode, Encode};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Job ids the mock treats as existing and paid.
pub const KNOWN_JOBS: std::ops::RangeInclusive<JobId> = 1..=1_000_000;

/// Most receipts the mock remembers (its memory is bounded; a real coordinator has a database).
pub const MAX_ATTESTED: usize = 1_000_000;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const ATTESTED: TableDefinition<&[u8], &[u8]> = TableDefinition::new("attested");
const META_GENESIS: &str = "genesis_hash";
const META_SCHEMA: &str = "schema_version";
const SCHEMA_VERSION: u32 = 1;

/// Why an attestation request was refused outright (a 400), or could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestError {
    #[error("the receipt names coordinator {named}, but this coordinator is {me}")]
    WrongCoordinator { named: AccountId, me: AccountId },
    #[error("the mock coordinator has attested its limit of {MAX_ATTESTED} receipts")]
    Full,
    #[error("the escrow names coordinator {named}, not this one ({me})")]
    NotEscrowCoordinator { named: AccountId, me: AccountId },
    #[error("the receipt's price {receipt} exceeds the escrowed {escrow}")]
    PriceExceedsEscrow { receipt: Balance, escrow: Balance },
    #[error("{units} compute units exceed the chain's max_units_per_receipt of {max}")]
    TooManyUnits { units: u64, max: u64 },
    /// The database failed: nothing was attested.
    #[error("coordinator database error: {0}")]
    Storage(String),
}

/// Why a coordinator database cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorDbError {
    #[error(
        "the coordinator database {path} belongs to another chain (genesis {found}, this \
         chain's is {expected}); use another --db"
    )]
    WrongGenesis {
        path: PathBuf,
        expected: Hash,
        found: Hash,
    },
    #[error("the coordinator database {0} is in use by another process; use another --db")]
    InUse(PathBuf),
    #[error(
        "the coordinator database {path} has schema version {found}, expected {SCHEMA_VERSION}"
    )]
    WrongSchema { path: PathBuf, found: u32 },
    #[error("cannot open the coordinator database {path}: {message}")]
    Db { path: PathBuf, message: String },
}

/// The file name of a chain's coordinator database: the first 8 bytes of its genesis hash in
/// hex (`mock-coordinator` puts it in `BASE_PATH/coordinator/`).
pub fn db_file_name(genesis_hash: &Hash) -> String {
    format!("{}.redb", hex::encode(&genesis_hash.0[..8]))
}

type Entry = (ComputeReceipt, Signature);

/// What the chain holds for a receipt: its escrow (if any) and the chain's unit cap.
#[derive(Debug, Clone)]
pub struct Escrow {
    pub job: Option<JobInfo>,
    pub max_units_per_receipt: u64,
}

/// Where attested receipts are remembered.
enum Store {
    Memory(HashMap<(AccountId, JobId), Entry>),
    Db {
        db: Database,
        path: PathBuf,
        count: usize,
    },
}

fn db_key(coordinator: &AccountId, client: &AccountId, job_id: JobId) -> [u8; 72] {
    let mut key = [0u8; 72];
    key[..32].copy_from_slice(&coordinator.0);
    key[32..64].copy_from_slice(&client.0);
    key[64..].copy_from_slice(&job_id.to_be_bytes());
    key
}

fn storage_error(e: impl std::fmt::Display) -> AttestError {
    AttestError::Storage(e.to_string())
}

impl Store {
    fn len(&self) -> usize {
        match self {
            Store::Memory(m) => m.len(),
            Store::Db { count, .. } => *count,
        }
    }

    fn get(
        &self,
        coordinator: &AccountId,
        client: &AccountId,
        job_id: JobId,
    ) -> Result<Option<Entry>, AttestError> {
        match self {
            Store::Memory(m) => Ok(m.get(&(*client, job_id)).cloned()),
            Store::Db { db, .. } => {
                let txn = db.begin_read().map_err(storage_error)?;
                let table = txn.open_table(ATTESTED).map_err(storage_error)?;
                let key = db_key(coordinator, client, job_id);
                let Some(bytes) = table.get(key.as_slice()).map_err(storage_error)? else {
                    return Ok(None);
                };
                aitbc_primitives::decode_exact::<Entry>(bytes.value())
                    .map(Some)
                    .map_err(|e| storage_error(format!("corrupt entry: {e}")))
            }
        }
    }

    /// Remembers an attestation; for a database, durably before returning.
    fn insert(
        &mut self,
        coordinator: &AccountId,
        receipt: ComputeReceipt,
        sig: Signature,
    ) -> Result<(), AttestError> {
        match self {
            Store::Memory(m) => {
                m.insert((receipt.client, receipt.job_id), (receipt, sig));
            }
            Store::Db { db, count, .. } => {
                let key = db_key(coordinator, &receipt.client, receipt.job_id);
                let value = (receipt, sig).encode();
                let mut txn = db.begin_write().map_err(storage_error)?;
                txn.set_durability(redb::Durability::Immediate)
                    .map_err(storage_error)?;
                txn.open_table(ATTESTED)
                    .map_err(storage_error)?
                    .insert(key.as_slice(), value.as_slice())
                    .map_err(storage_error)?;
                txn.commit().map_err(storage_error)?;
                *count += 1;
            }
        }
        Ok(())
    }
}

/// Opens (or creates) the database at `path` for the chain `genesis_hash`; returns it and the
/// number of receipts it holds.
fn open_db(path: &Path, genesis_hash: &Hash) -> Result<(Database, usize), CoordinatorDbError> {
    let fail = |e: &dyn std::fmt::Display| CoordinatorDbError::Db {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    }
    let db = match Database::create(path) {
        Ok(db) => db,
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
            return Err(CoordinatorDbError::InUse(path.to_path_buf()))
        }
        Err(e) => return Err(fail(&e)),
    };
    let mut txn = db.begin_write().map_err(|e| fail(&e))?;
    txn.set_durability(redb::Durability::Immediate)
        .map_err(|e| fail(&e))?;
    let count = {
        let mut meta = txn.open_table(META).map_err(|e| fail(&e))?;
        let found = meta
            .get(META_GENESIS)
            .map_err(|e| fail(&e))?
            .map(|v| v.value().to_vec());
        match found {
            Some(bytes) => {
                let found = <[u8; 32]>::try_from(bytes.as_slice())
                    .map(Hash)
                    .map_err(|_| fail(&"corrupt genesis hash"))?;
                if found != *genesis_hash {
                    return Err(CoordinatorDbError::WrongGenesis {
                        path: path.to_path_buf(),
                        expected: *genesis_hash,
                        found,
                    });
                }
                let schema = meta
                    .get(META_SCHEMA)
                    .map_err(|e| fail(&e))?
                    .and_then(|v| u32::decode(&mut v.value()).ok())
                    .unwrap_or(0);
                if schema != SCHEMA_VERSION {
                    return Err(CoordinatorDbError::WrongSchema {
                        path: path.to_path_buf(),
                        found: schema,
                    });
                }
            }
            None => {
                meta.insert(META_GENESIS, genesis_hash.0.as_slice())
                    .map_err(|e| fail(&e))?;
                meta.insert(META_SCHEMA, SCHEMA_VERSION.encode().as_slice())
                    .map_err(|e| fail(&e))?;
            }
        }
        let attested = txn.open_table(ATTESTED).map_err(|e| fail(&e))?;
        let count = attested.len().map_err(|e| fail(&e))?;
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    txn.commit().map_err(|e| fail(&e))?;
    Ok((db, count))
}

/// The attesting state: the key, the chain, and the receipts attested so far.
pub struct Coordinator {
    key: Pair,
    genesis_hash: Hash,
    store: Store,
    /// The node whose chain decides which escrows exist (`http://host:port`).
    chain_rpc: Option<String>,
}

impl std::fmt::Debug for Coordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Coordinator({})", self.key.public())
    }
}

impl Coordinator {
    /// A coordinator that remembers its attestations in memory only (forgotten on exit).
    pub fn new(key: Pair, genesis_hash: Hash) -> Self {
        Coordinator {
            key,
            genesis_hash,
            store: Store::Memory(HashMap::new()),
            chain_rpc: None,
        }
    }

    /// Attests only what the chain of the node at `rpc` (`http://host:port`) holds (see the
    /// module docs).
    pub fn with_chain(mut self, rpc: &str) -> Self {
        self.chain_rpc = Some(rpc.to_string());
        self
    }

    /// The node asked about escrows, if any.
    pub fn chain_rpc(&self) -> Option<&str> {
        self.chain_rpc.as_deref()
    }

    /// A coordinator that remembers its attestations in the redb file at `path` (created with
    /// its directory if missing). A file made for another chain is refused.
    pub fn open(key: Pair, genesis_hash: Hash, path: &Path) -> Result<Self, CoordinatorDbError> {
        let (db, count) = open_db(path, &genesis_hash)?;
        Ok(Coordinator {
            key,
            genesis_hash,
            store: Store::Db {
                db,
                path: path.to_path_buf(),
                count,
            },
            chain_rpc: None,
        })
    }

    pub fn account(&self) -> AccountId {
        self.key.public()
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    /// How many receipts are remembered.
    pub fn attested(&self) -> usize {
        self.store.len()
    }

    /// The database file, if attestations are kept in one.
    pub fn db_path(&self) -> Option<&Path> {
        match &self.store {
            Store::Memory(_) => None,
            Store::Db { path, .. } => Some(path),
        }
    }

    /// Answers one attestation request (see the module docs), given what the chain holds for
    /// it (`None`: no node to ask). A new attestation is remembered (durably, with a database)
    /// before it is returned.
    pub fn attest(
        &mut self,
        receipt: ComputeReceipt,
        escrow: Option<&Escrow>,
    ) -> Result<Value, AttestError> {
        let me = self.key.public();
        if receipt.coordinator != me {
            return Err(AttestError::WrongCoordinator {
                named: receipt.coordinator,
                me,
            });
        }
        let receipt_id = receipt.id();
        let (exists, paid) = match escrow {
            None => {
                let known = KNOWN_JOBS.contains(&receipt.job_id);
                (known, known)
            }
            Some(escrow) => {
                if receipt.compute_units > escrow.max_units_per_receipt {
                    return Err(AttestError::TooManyUnits {
                        units: receipt.compute_units,
                        max: escrow.max_units_per_receipt,
                    });
                }
                match &escrow.job {
                    None => (false, false),
                    Some(job) => {
                        if job.coordinator != me {
                            return Err(AttestError::NotEscrowCoordinator {
                                named: job.coordinator,
                                me,
                            });
                        }
                        if job.price < receipt.price {
                            return Err(AttestError::PriceExceedsEscrow {
                                receipt: receipt.price,
                                escrow: job.price,
                            });
                        }
                        (true, job.status == JobStatus::Open)
                    }
                }
            }
        };
        let (not_double_spent, attestation) = if !(exists && paid) {
            (true, None)
        } else {
            match self.store.get(&me, &receipt.client, receipt.job_id)? {
                Some((earlier, sig)) if earlier == receipt => (true, Some(sig)),
                Some(_) => (false, None),
                None if self.store.len() >= MAX_ATTESTED => return Err(AttestError::Full),
                None => {
                    let sig = receipt.attest(&self.key, &self.genesis_hash);
                    self.store.insert(&me, receipt, sig)?;
                    (true, Some(sig))
                }
            }
        };
        Ok(json!({
            "exists": exists,
            "paid": paid,
            "not_double_spent": not_double_spent,
            "coordinator": me,
            "receipt_id": receipt_id,
            "attestation": attestation.map(|s| s.to_hex()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aitbc_primitives::crypto::dev_pair;
    use aitbc_primitives::ReceiptClaim;

    fn receipt(job_id: JobId, units: u64) -> ComputeReceipt {
        ComputeReceipt {
            job_id,
            client: dev_pair("bob").public(),
            miner: dev_pair("miner").public(),
            coordinator: dev_pair("coordinator").public(),
            compute_units: units,
            price: 10,
            output_hash: Hash::of(b"out"),
        }
    }

    #[test]
    fn attests_once_per_job_and_verifies_on_chain_terms() {
        let g = Hash::of(b"genesis");
        let mut c = Coordinator::new(dev_pair("coordinator"), g);
        let r = receipt(7, 3);
        let a = c.attest(r.clone(), None).unwrap();
        assert_eq!(a["exists"], true);
        assert_eq!(a["receipt_id"], r.id().to_string());
        let sig = Signature::from_hex(a["attestation"].as_str().unwrap()).unwrap();
        let claim = ReceiptClaim {
            miner_sig: r.sign_as_miner(&dev_pair("miner"), &g),
            attestation: sig,
            receipt: r.clone(),
        };
        assert_eq!(claim.signatures_valid(&g), (true, true));
        assert_eq!(claim.signatures_valid(&Hash::of(b"other")), (false, false));

        // Same receipt: same attestation. A different one for the same job: refused.
        assert_eq!(c.attest(r, None).unwrap()["attestation"], a["attestation"]);
        let other = c.attest(receipt(7, 4), None).unwrap();
        assert_eq!(other["not_double_spent"], false);
        assert!(other["attestation"].is_null());

        let unknown = c.attest(receipt(2_000_000, 1), None).unwrap();
        assert_eq!(
            (unknown["exists"].clone(), unknown["attestation"].clone()),
            (json!(false), Value::Null)
        );
        let mut wrong = receipt(8, 1);
        wrong.coordinator = dev_pair("alice").public();
        assert!(matches!(
            c.attest(wrong, None),
            Err(AttestError::WrongCoordinator { .. })
        ));
    }

    #[test]
    fn attestations_survive_a_restart() {
        let g = Hash::of(b"genesis");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coordinator").join(db_file_name(&g));
        let r = receipt(7, 3);
        let first = {
            let mut c = Coordinator::open(dev_pair("coordinator"), g, &path).unwrap();
            assert_eq!(c.db_path(), Some(path.as_path()));
            let a = c.attest(r.clone(), None).unwrap();
            assert!(a["attestation"].is_string());
            a
        }; // dropped: the database is closed, as by a crash after the answer

        let mut c = Coordinator::open(dev_pair("coordinator"), g, &path).unwrap();
        assert_eq!(c.attested(), 1);
        // The same receipt: the same attestation. A different one for that (client, job): refused.
        assert_eq!(
            c.attest(r, None).unwrap()["attestation"],
            first["attestation"]
        );
        let other = c.attest(receipt(7, 4), None).unwrap();
        assert_eq!(other["not_double_spent"], false);
        assert!(other["attestation"].is_null());
        // Another job is attested as usual, and counted.
        assert!(c.attest(receipt(8, 1), None).unwrap()["attestation"].is_string());
        assert_eq!(c.attested(), 2);

        // One process per database.
        assert!(matches!(
            Coordinator::open(dev_pair("coordinator"), g, &path),
            Err(CoordinatorDbError::InUse(_))
        ));
        drop(c);
        // A database of another chain is refused with a one-line error.
        let err =
            Coordinator::open(dev_pair("coordinator"), Hash::of(b"other"), &path).unwrap_err();
        assert!(matches!(err, CoordinatorDbError::WrongGenesis { .. }));
        assert!(err.to_string().contains("another chain"), "{err}");
        assert!(!err.to_string().contains('\n'));
        // Still intact for its own chain.
        let c = Coordinator::open(dev_pair("coordinator"), g, &path).unwrap();
        assert_eq!(c.attested(), 2);
    }

    #[test]
    fn with_a_chain_only_open_escrows_of_this_coordinator_are_attested() {
        let g = Hash::of(b"genesis");
        let mut c = Coordinator::new(dev_pair("coordinator"), g);
        let r = receipt(7, 3);
        let job = |coordinator: &str, price: Balance, status: JobStatus| JobInfo {
            job_id: 7,
            client: r.client,
            coordinator: dev_pair(coordinator).public(),
            price,
            expires_at: 100,
            status,
        };
        let escrow = |job: Option<JobInfo>| Escrow {
            job,
            max_units_per_receipt: 5,
        };
        // No escrow: not attested, whatever the job id.
        let none = c.attest(r.clone(), Some(&escrow(None))).unwrap();
        assert_eq!(
            (none["exists"].clone(), none["paid"].clone()),
            (json!(false), json!(false))
        );
        assert!(none["attestation"].is_null());
        // Settled already: exists, not paid, not attested.
        let claimed = escrow(Some(job("coordinator", 10, JobStatus::Claimed)));
        let settled = c.attest(r.clone(), Some(&claimed)).unwrap();
        assert_eq!(
            (settled["exists"].clone(), settled["paid"].clone()),
            (json!(true), json!(false))
        );
        assert!(settled["attestation"].is_null());
        // Another coordinator's escrow, a price above the escrow, units above the cap: refused.
        let other = escrow(Some(job("alice", 10, JobStatus::Open)));
        assert!(matches!(
            c.attest(r.clone(), Some(&other)),
            Err(AttestError::NotEscrowCoordinator { .. })
        ));
        let cheap = escrow(Some(job("coordinator", 9, JobStatus::Open)));
        assert!(matches!(
            c.attest(r.clone(), Some(&cheap)),
            Err(AttestError::PriceExceedsEscrow {
                receipt: 10,
                escrow: 9
            })
        ));
        let open = escrow(Some(job("coordinator", 10, JobStatus::Open)));
        assert!(matches!(
            c.attest(receipt(7, 6), Some(&open)),
            Err(AttestError::TooManyUnits { units: 6, max: 5 })
        ));
        assert_eq!(c.attested(), 0, "nothing remembered for a refusal");
        // An open escrow of this coordinator that covers the price: attested.
        let ok = c.attest(r, Some(&open)).unwrap();
        assert!(ok["attestation"].is_string());
        assert_eq!(c.attested(), 1);
    }
}
