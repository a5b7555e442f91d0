//! Known peers, persisted in `<base>/network/peers.redb` (peer id -> last addresses and when it
//! was last connected), so a restarted node redials the peers it knew.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use aitbc_primitives::{decode_exact, BoundedVec};
use codec::{Decode, Encode};
use libp2p::{Multiaddr, PeerId};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::NetworkError;

const PEERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("peers");
/// The file name inside the network directory.
pub const PEERS_FILE: &str = "peers.redb";
/// Addresses kept per peer.
pub const MAX_ADDRS_PER_PEER: usize = 8;
/// Peers kept; the least recently seen are dropped beyond it.
pub const MAX_STORED_PEERS: usize = 512;
/// Bytes of one stored multiaddr at most.
const MAX_ADDR_BYTES: usize = 256;

#[derive(Encode, Decode)]
struct Record {
    /// Unix seconds of the last successful handshake.
    last_seen: u64,
    addrs: BoundedVec<Vec<u8>, MAX_ADDRS_PER_PEER>,
}

/// A known peer read back from the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownPeer {
    pub peer: PeerId,
    pub addrs: Vec<Multiaddr>,
    pub last_seen: u64,
}

pub struct PeerStore {
    db: Database,
}

impl std::fmt::Debug for PeerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeerStore")
    }
}

fn db_err(e: impl Into<redb::Error>) -> NetworkError {
    NetworkError::PeerDb(e.into().to_string())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl PeerStore {
    pub fn open(dir: &Path) -> Result<PeerStore, NetworkError> {
        std::fs::create_dir_all(dir).map_err(|e| NetworkError::io(dir, e))?;
        let db = Database::create(dir.join(PEERS_FILE)).map_err(db_err)?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(PEERS).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(PeerStore { db })
    }

    /// Known peers, most recently seen first. Entries that do not decode are skipped.
    pub fn load(&self) -> Result<Vec<KnownPeer>, NetworkError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(PEERS).map_err(db_err)?;
        let mut peers = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (key, value) = entry.map_err(db_err)?;
            let Ok(peer) = PeerId::from_bytes(key.value()) else {
                continue;
            };
            let Ok(record) = decode_exact::<Record>(value.value()) else {
                continue;
            };
            let addrs = record
                .addrs
                .iter()
                .filter_map(|a| Multiaddr::try_from(a.clone()).ok())
                .collect();
            peers.push(KnownPeer {
                peer,
                addrs,
                last_seen: record.last_seen,
            });
        }
        peers.sort_by_key(|p| std::cmp::Reverse(p.last_seen));
        Ok(peers)
    }

    /// Records `peer` as seen now at `addrs` (the first [`MAX_ADDRS_PER_PEER`] are kept), and
    /// drops the least recently seen peers beyond [`MAX_STORED_PEERS`].
    pub fn save(&self, peer: &PeerId, addrs: &[Multiaddr]) -> Result<(), NetworkError> {
        let addrs: Vec<Vec<u8>> = addrs
            .iter()
            .map(|a| a.to_vec())
            .filter(|a| a.len() <= MAX_ADDR_BYTES)
            .take(MAX_ADDRS_PER_PEER)
            .collect();
        let record = Record {
            last_seen: unix_now(),
            addrs: BoundedVec::try_from_vec(addrs).expect("taken at most the bound; qed"),
        };
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(PEERS).map_err(db_err)?;
            table
                .insert(peer.to_bytes().as_slice(), record.encode().as_slice())
                .map_err(db_err)?;
            let len = table.len().map_err(db_err)? as usize;
            if len > MAX_STORED_PEERS {
                let mut by_age: Vec<(u64, Vec<u8>)> = Vec::with_capacity(len);
                for entry in table.iter().map_err(db_err)? {
                    let (key, value) = entry.map_err(db_err)?;
                    let seen = decode_exact::<Record>(value.value())
                        .map(|r| r.last_seen)
                        .unwrap_or(0);
                    by_age.push((seen, key.value().to_vec()));
                }
                by_age.sort();
                for (_, key) in by_age.iter().take(len - MAX_STORED_PEERS) {
                    table.remove(key.as_slice()).map_err(db_err)?;
                }
            }
        }
        txn.commit().map_err(db_err)
    }

    /// Forgets `peer` (banned, or on another chain).
    pub fn remove(&self, peer: &PeerId) -> Result<(), NetworkError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        txn.open_table(PEERS)
            .map_err(db_err)?
            .remove(peer.to_bytes().as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_survive_reopen_and_can_be_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = PeerId::random();
        let b = PeerId::random();
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/7070".parse().expect("valid");
        {
            let store = PeerStore::open(dir.path()).expect("open");
            store.save(&a, std::slice::from_ref(&addr)).expect("save");
            store.save(&b, &[]).expect("save");
            store.remove(&b).expect("remove");
        }
        let store = PeerStore::open(dir.path()).expect("reopen");
        let peers = store.load().expect("load");
        assert_eq!(peers.len(), 1);
        assert_eq!(peers[0].peer, a);
        assert_eq!(peers[0].addrs, vec![addr]);
    }
}
