-- The indexer's schema, version 1. Hashes, addresses and receipt ids are the RPC's text forms
-- (`0x…`, `ait1…`) in the "C" collation (byte order: their indexes compare with memcmp, not the
-- locale's rules); amounts are AIT base units as numeric(39,0) (u128).

-- The indexer's cursor: which chain this database holds and the last height written. Updated
-- in the same transaction as the blocks it counts.
CREATE TABLE indexer_state (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    genesis_hash text COLLATE "C"    NOT NULL,
    chain        text    NOT NULL,
    height       bigint  NOT NULL
);

CREATE TABLE blocks (
    height       bigint PRIMARY KEY,
    hash         text COLLATE "C"   NOT NULL UNIQUE,
    parent_hash  text COLLATE "C"   NOT NULL,
    author       text COLLATE "C",
    slot         bigint NOT NULL,
    timestamp    timestamptz NOT NULL,
    state_root   text COLLATE "C"   NOT NULL,
    tx_count     integer NOT NULL
);
CREATE INDEX blocks_author ON blocks (author, height);
CREATE INDEX blocks_timestamp ON blocks (timestamp);

CREATE TABLE transactions (
    hash         text COLLATE "C"    PRIMARY KEY,
    block_height bigint  NOT NULL REFERENCES blocks (height),
    tx_index     integer NOT NULL,
    signer       text COLLATE "C"    NOT NULL,
    nonce        bigint  NOT NULL,
    call_type    text    NOT NULL,
    call         jsonb   NOT NULL,
    fee          numeric(39, 0) NOT NULL,
    success      boolean NOT NULL,
    error        text,
    UNIQUE (block_height, tx_index)
);
CREATE INDEX transactions_signer ON transactions (signer, block_height);

-- Every event of every transaction, in order: `module` and `name` as in the RPC's
-- `{"Module": {"Name": {…}}}`, `data` the inner object. An event belongs to the transaction at
-- (block_height, tx_index), whose hash is tx_hash: the indexer writes both in one transaction,
-- and this is not an enforced foreign key (its two checks per event were a third of the cost of
-- writing a block; the indexer's tests check that no event is orphaned). A transaction's events
-- by hash: join `transactions` on (block_height, tx_index), this table's primary key.
CREATE TABLE events (
    block_height bigint  NOT NULL,
    tx_index     integer NOT NULL,
    event_index  integer NOT NULL,
    tx_hash      text COLLATE "C"    NOT NULL,
    module       text    NOT NULL,
    name         text    NOT NULL,
    data         jsonb   NOT NULL,
    PRIMARY KEY (block_height, tx_index, event_index)
);

-- The latest balance and nonce of every account a transaction or event touched, as the node
-- answered them when the batch of blocks that last touched it was indexed (`last_height`: that
-- batch's last block; informational, not a foreign key: its check on every upsert cost as much
-- as writing the accounts).
CREATE TABLE accounts (
    address      text COLLATE "C" PRIMARY KEY,
    balance      numeric(39, 0) NOT NULL,
    nonce        bigint NOT NULL,
    last_height  bigint NOT NULL
);

CREATE TABLE jobs (
    client        text COLLATE "C"   NOT NULL,
    job_id        numeric(20, 0) NOT NULL,
    coordinator   text COLLATE "C",
    price         numeric(39, 0),
    expires_at    bigint,
    status        text   NOT NULL,
    opened_height bigint REFERENCES blocks (height),
    closed_height bigint REFERENCES blocks (height),
    receipt_id    text COLLATE "C",
    PRIMARY KEY (client, job_id)
);

CREATE TABLE receipts (
    receipt_id     text COLLATE "C"   PRIMARY KEY,
    block_height   bigint NOT NULL REFERENCES blocks (height),
    tx_hash        text COLLATE "C"   NOT NULL REFERENCES transactions (hash),
    client         text COLLATE "C"   NOT NULL,
    job_id         numeric(20, 0) NOT NULL,
    miner          text COLLATE "C"   NOT NULL,
    coordinator    text COLLATE "C"   NOT NULL,
    compute_units  bigint NOT NULL,
    paid           numeric(39, 0) NOT NULL,
    returned       numeric(39, 0) NOT NULL,
    minted         numeric(39, 0) NOT NULL,
    to_coordinator numeric(39, 0) NOT NULL,
    to_treasury    numeric(39, 0) NOT NULL
);
CREATE INDEX receipts_miner ON receipts (miner, block_height);
CREATE INDEX receipts_block ON receipts (block_height);

-- The validator set and its candidates as the node answered `getValidators` after the last
-- block that changed staking or the authority set.
CREATE TABLE validators (
    address             text COLLATE "C"    PRIMARY KEY,
    active              boolean NOT NULL,
    bonded              numeric(39, 0) NOT NULL,
    weight_ppm          bigint  NOT NULL,
    authored_this_epoch bigint  NOT NULL,
    work_score          numeric(39, 0) NOT NULL,
    disabled            boolean NOT NULL,
    epoch               bigint  NOT NULL,
    updated_height      bigint  NOT NULL REFERENCES blocks (height)
);

CREATE TABLE offences (
    block_height  bigint NOT NULL REFERENCES blocks (height),
    tx_hash       text COLLATE "C"   NOT NULL REFERENCES transactions (hash),
    event_index   integer NOT NULL,
    offender      text COLLATE "C"   NOT NULL,
    kind          text   NOT NULL,
    slot_or_round bigint NOT NULL,
    amount        numeric(39, 0) NOT NULL,
    reporter      text COLLATE "C"   NOT NULL,
    to_reporter   numeric(39, 0) NOT NULL,
    PRIMARY KEY (tx_hash, event_index)
);
CREATE INDEX offences_offender ON offences (offender);
