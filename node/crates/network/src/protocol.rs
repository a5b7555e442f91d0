//! The wire protocol: gossip topics and message ids, the sync request-response types and their
//! limits, and the byte codec of the sync protocol.

use std::io;

use aitbc_primitives::{blake2_256, decode_exact, BoundedVec, DecodeError, Hash};
use codec::{Decode, Encode};
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::gossipsub::{self, IdentTopic, MessageId};
use libp2p::StreamProtocol;

/// Blocks asked for in one `BlocksByRange` request at most; a larger `count` is clamped.
pub const MAX_BLOCKS_PER_REQUEST: u32 = 128;
/// Hashes in one `BlocksByHash` request at most (enforced when the request is decoded).
pub const MAX_HASHES_PER_REQUEST: usize = 128;
/// Bytes of an encoded request at most (128 hashes are 4 KiB).
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// Framing allowance on top of a response's payload: the enum tag and one length prefix per item.
pub const RESPONSE_FRAMING_BYTES: usize = 8 * 1024;
/// Bytes of an error string in a response at most (longer strings are cut).
pub const MAX_ERROR_BYTES: usize = 256;
/// Peers in one `Peers` answer at most.
pub const MAX_PEER_RECORDS: usize = 64;
/// Addresses of one peer in a `Peers` answer at most.
pub const MAX_RECORD_ADDRS: usize = 4;

/// A peer another node is connected to, for peer exchange: its peer id and the addresses to dial
/// it at, as libp2p bytes (the receiver parses and checks them).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct PeerRecord {
    pub peer_id: BoundedVec<u8, 64>,
    pub addrs: BoundedVec<BoundedVec<u8, 256>, MAX_RECORD_ADDRS>,
}

/// A gossip topic. On the wire it is `/aitbc/<genesis-hex>/<name>`, so peers of different
/// chains never share a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Encoded `SignedBlock`s, announced by their author and forwarded after import.
    Blocks,
    /// Encoded `Extrinsic`s.
    Txs,
    /// Encoded finality votes.
    Votes,
}

impl Topic {
    pub const ALL: [Topic; 3] = [Topic::Blocks, Topic::Txs, Topic::Votes];

    pub fn name(self) -> &'static str {
        match self {
            Topic::Blocks => "blocks",
            Topic::Txs => "txs",
            Topic::Votes => "votes",
        }
    }

    /// The gossipsub topic of this kind on the chain with genesis `genesis`.
    pub fn ident(self, genesis: &Hash) -> IdentTopic {
        IdentTopic::new(format!("/aitbc/{}/{}", hex::encode(genesis.0), self.name()))
    }
}

/// The name of the sync request-response protocol: `/aitbc/<genesis-hex>/sync/1`.
pub fn sync_protocol(genesis: &Hash) -> StreamProtocol {
    StreamProtocol::try_from_owned(format!("/aitbc/{}/sync/1", hex::encode(genesis.0)))
        .expect("the name starts with '/'; qed")
}

/// The identify protocol version: `/aitbc/<genesis-hex>`. A peer announcing another one is on
/// another chain and is refused.
pub fn chain_id(genesis: &Hash) -> String {
    format!("/aitbc/{}", hex::encode(genesis.0))
}

/// A gossip message's id: blake2b-256 of its data, so the same payload has one id whoever
/// publishes it and a re-publish of a block or transaction is recognised as a duplicate.
pub fn message_id(message: &gossipsub::Message) -> MessageId {
    MessageId::new(&blake2_256(&message.data))
}

/// A peer's view of its chain, exchanged on connection and refreshed periodically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Status {
    pub genesis: Hash,
    /// Number and hash of the best block.
    pub best: (u64, Hash),
    /// Number and hash of the last finalized block.
    pub finalized: (u64, Hash),
}

/// A sync request (SCALE, decoded with [`decode_exact`]: bounded, no trailing bytes).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum SyncRequest {
    /// The peer's [`Status`].
    #[codec(index = 0)]
    Status,
    /// Canonical blocks `from, from + 1, …`: at most `count` (clamped to
    /// [`MAX_BLOCKS_PER_REQUEST`]) and at most the response byte budget.
    #[codec(index = 1)]
    BlocksByRange { from: u64, count: u32 },
    /// Blocks by hash, in the order asked; unknown hashes are skipped.
    #[codec(index = 2)]
    BlocksByHash(BoundedVec<Hash, MAX_HASHES_PER_REQUEST>),
    /// The votes the peer holds for a finality round.
    #[codec(index = 3)]
    Votes { round: u64 },
    /// The peers the peer is connected to (peer exchange), answered by the network service.
    #[codec(index = 4)]
    Peers,
    /// The finality proof from block `from` (warp sync: `primitives::warp`).
    #[codec(index = 5)]
    FinalityProof { from: u64 },
    /// The entries of block `number`'s state from key hash `start` on, with their range proof
    /// (state sync: `primitives::snapshot`), within the response byte budget.
    #[codec(index = 6)]
    StateChunk { number: u64, start: [u8; 32] },
}

/// A sync response. Blocks and votes are opaque encoded bytes to the network; the node decodes
/// and checks them.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum SyncResponse {
    #[codec(index = 0)]
    Status(Status),
    /// Encoded `SignedBlock`s in the order asked.
    #[codec(index = 1)]
    Blocks(Vec<Vec<u8>>),
    /// Encoded votes.
    #[codec(index = 2)]
    Votes(Vec<Vec<u8>>),
    /// The request was refused (undecodable, rate limited, busy); a short reason.
    #[codec(index = 3)]
    Error(String),
    /// Connected peers of the chain, at most [`MAX_PEER_RECORDS`].
    #[codec(index = 4)]
    Peers(BoundedVec<PeerRecord, MAX_PEER_RECORDS>),
    /// An encoded `FinalityProof`.
    #[codec(index = 5)]
    FinalityProof(Vec<u8>),
    /// An encoded `StateChunk`.
    #[codec(index = 6)]
    StateChunk(Vec<u8>),
}

impl SyncRequest {
    pub fn decode_bytes(bytes: &[u8]) -> Result<SyncRequest, DecodeError> {
        decode_exact(bytes)
    }
}

impl SyncResponse {
    /// An error response, its reason cut to [`MAX_ERROR_BYTES`].
    pub fn error(reason: impl Into<String>) -> SyncResponse {
        let mut reason = reason.into();
        if reason.len() > MAX_ERROR_BYTES {
            let mut end = MAX_ERROR_BYTES;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        SyncResponse::Error(reason)
    }

    /// Decodes a response read from a peer. The codec already bounded the input, so the item
    /// vectors are bounded by its length; trailing bytes are refused.
    pub fn decode_bytes(bytes: &[u8]) -> Result<SyncResponse, DecodeError> {
        decode_exact(bytes)
    }
}

/// Keeps items from the front while they fit in `max_bytes`, and at most `max_items`. The first
/// item is always kept, so any single block can be fetched whatever its size (a block is bounded
/// by the chain's own limits, and the codec's read limit covers it).
pub fn trim_to_budget(items: &mut Vec<Vec<u8>>, max_items: usize, max_bytes: usize) {
    items.truncate(max_items);
    let mut total = 0usize;
    let mut keep = 0usize;
    for item in items.iter() {
        total = total.saturating_add(item.len());
        if keep > 0 && total > max_bytes {
            break;
        }
        keep += 1;
    }
    items.truncate(keep);
}

/// The byte codec of the sync protocol: a request or response is the raw SCALE bytes up to the
/// end of the stream, read with a limit. Decoding to [`SyncRequest`]/[`SyncResponse`] happens in
/// the service, so an undecodable request can still be answered with an error and the peer
/// penalised.
#[derive(Clone, Debug)]
pub struct SyncCodec {
    pub max_request_bytes: usize,
    pub max_response_bytes: usize,
}

/// The error kind and message of an over-long request or response (the service tells it apart
/// from other I/O failures to charge `TooLarge`).
pub const TOO_LARGE: &str = "message exceeds the protocol's size limit";

async fn read_bounded<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    limit: usize,
) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    io.take(limit as u64 + 1).read_to_end(&mut buf).await?;
    if buf.len() > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, TOO_LARGE));
    }
    Ok(buf)
}

/// Whether an I/O error is the codec's size-limit refusal.
pub fn is_too_large(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidData && e.to_string() == TOO_LARGE
}

impl libp2p::request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        // An over-long request is cut off at `max_request_bytes + 1` and handed on as it is, for
        // the service to refuse and charge (`TooLarge`): request-response drops a failure of
        // `read_request` without telling the behaviour, so an `Err` here would cost the peer
        // nothing.
        let mut buf = Vec::new();
        io.take(self.max_request_bytes as u64 + 1)
            .read_to_end(&mut buf)
            .await?;
        Ok(buf)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_bounded(io, self.max_response_bytes).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&req).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&res).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: u8) -> Hash {
        Hash([b; 32])
    }

    /// Golden bytes: a change of the wire format is a visible diff here.
    #[test]
    fn request_and_response_encodings_are_pinned() {
        assert_eq!(SyncRequest::Status.encode(), vec![0]);
        assert_eq!(
            hex::encode(SyncRequest::BlocksByRange { from: 5, count: 2 }.encode()),
            "01050000000000000002000000"
        );
        let by_hash = SyncRequest::BlocksByHash(
            BoundedVec::try_from_vec(vec![h(0xaa)]).expect("one hash fits"),
        );
        assert_eq!(
            hex::encode(by_hash.encode()),
            format!("0204{}", "aa".repeat(32))
        );
        assert_eq!(
            hex::encode(SyncRequest::Votes { round: 1 }.encode()),
            "030100000000000000"
        );
        let status = SyncResponse::Status(Status {
            genesis: h(1),
            best: (2, h(3)),
            finalized: (1, h(4)),
        });
        assert_eq!(
            hex::encode(status.encode()),
            format!(
                "00{}0200000000000000{}0100000000000000{}",
                "01".repeat(32),
                "03".repeat(32),
                "04".repeat(32)
            )
        );
        assert_eq!(
            hex::encode(SyncResponse::Blocks(vec![vec![7, 8]]).encode()),
            "0104080708"
        );
        assert_eq!(hex::encode(SyncResponse::error("no").encode()), "03086e6f");
    }

    #[test]
    fn hostile_request_bytes_are_refused() {
        assert!(SyncRequest::decode_bytes(&[]).is_err());
        assert!(SyncRequest::decode_bytes(&[9]).is_err());
        assert!(SyncRequest::decode_bytes(&[0, 0]).is_err(), "trailing byte");
        // 129 hashes: over the bound, refused from the length prefix alone.
        let mut long = vec![2u8];
        long.extend(codec::Compact(129u32).encode());
        long.extend(vec![0u8; 129 * 32]);
        assert!(SyncRequest::decode_bytes(&long).is_err());
        // A huge length prefix with no data fails without allocating.
        let mut huge = vec![2u8];
        huge.extend(codec::Compact(u32::MAX).encode());
        assert!(SyncRequest::decode_bytes(&huge).is_err());
        let mut huge = vec![1u8];
        huge.extend(codec::Compact(u32::MAX).encode());
        assert!(SyncResponse::decode_bytes(&huge).is_err());
    }

    #[test]
    fn topics_and_protocol_carry_the_genesis() {
        let g = h(0xab);
        let hexg = "ab".repeat(32);
        assert_eq!(
            Topic::Blocks.ident(&g).to_string(),
            format!("/aitbc/{hexg}/blocks")
        );
        assert_eq!(
            Topic::Txs.ident(&g).to_string(),
            format!("/aitbc/{hexg}/txs")
        );
        assert_eq!(
            Topic::Votes.ident(&g).to_string(),
            format!("/aitbc/{hexg}/votes")
        );
        assert_eq!(sync_protocol(&g).as_ref(), format!("/aitbc/{hexg}/sync/1"));
    }

    #[test]
    fn budget_keeps_the_first_item_and_stops_at_the_limit() {
        let mut items = vec![vec![0u8; 10]; 5];
        trim_to_budget(&mut items, 128, 25);
        assert_eq!(items.len(), 2);
        let mut items = vec![vec![0u8; 100], vec![0u8; 1]];
        trim_to_budget(&mut items, 128, 25);
        assert_eq!(items.len(), 1, "an oversized first item is still sent");
        let mut items = vec![vec![0u8; 1]; 300];
        trim_to_budget(&mut items, 128, usize::MAX);
        assert_eq!(items.len(), 128);
    }

    #[test]
    fn error_reason_is_cut_on_a_char_boundary() {
        let SyncResponse::Error(s) = SyncResponse::error("é".repeat(200)) else {
            panic!("an error response")
        };
        assert!(s.len() <= MAX_ERROR_BYTES);
    }
}
