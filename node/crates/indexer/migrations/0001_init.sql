-- The indexer's schema, version 1. Hashes, addresses and receipt ids are the RPC's text forms
-- (`0x…`, `ait1…`); amounts are AIT base units as numeric(39,0) (u128).

-- The indexer's cursor: which chain this database holds and the last height written. Updated
-- in the same transaction as the blocks it counts.
CREATE TABLE indexer_state (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    genesis_hash text    NOT NULL,
    chain        text    NOT NULL,
    height       bigint  NOT NULL
);

CREATE TABLE blocks (
    height       bigint PRIMARY KEY,
    hash         text   NOT NULL UNIQUE,
    parent_hash  text   NOT NULL,
    author       text,
    slot         bigint NOT NULL,
    timestamp    timestamptz NOT NULL,
    state_root   text   NOT NULL,
    tx_count     integer NOT NULL
);
CREATE INDEX blocks_author ON blocks (author, height);
CREATE INDEX blocks_timestamp ON blocks (timestamp);

CREATE TABLE transactions (
    hash         text    PRIMARY KEY,
    block_height bigint  NOT NULL REFERENCES blocks (height),
    tx_index     integer NOT NULL,
    signer       text    NOT NULL,
    nonce        bigint  NOT NULL,
    call_type    text    NOT NULL,
    call         jsonb   NOT NULL,
    fee          numeric(39, 0) NOT NULL,
    success      boolean NOT NULL,
    error        text,
    UNIQUE (block_height, tx_index)
);
CREATE INDEX transactions_signer ON transactions (signer, block_height);
CREATE INDEX transactions_call_type ON transactions (call_type);

-- Every event of every transaction, in order: `module` and `name` as in the RPC's
-- `{"Module": {"Name": {…}}}`, `data` the inner object.
CREATE TABLE events (
    block_height bigint  NOT NULL REFERENCES blocks (height),
    tx_index     integer NOT NULL,
    event_index  integer NOT NULL,
    tx_hash      text    NOT NULL REFERENCES transactions (hash),
    module       text    NOT NULL,
    name         text    NOT NULL,
    data         jsonb   NOT NULL,
    PRIMARY KEY (block_height, tx_index, event_index)
);
CREATE INDEX events_tx ON events (tx_hash);
CREATE INDEX events_name ON events (module, name, block_height);

-- The latest balance and nonce of every account a transaction or event touched, as the node
-- answered them when the block that last touched it was indexed.
CREATE TABLE accounts (
    address      text PRIMARY KEY,
    balance      numeric(39, 0) NOT NULL,
    nonce        bigint NOT NULL,
    last_height  bigint NOT NULL REFERENCES blocks (height)
);

CREATE TABLE jobs (
    client        text   NOT NULL,
    job_id        numeric(20, 0) NOT NULL,
    coordinator   text,
    price         numeric(39, 0),
    expires_at    bigint,
    status        text   NOT NULL,
    opened_height bigint REFERENCES blocks (height),
    closed_height bigint REFERENCES blocks (height),
    receipt_id    text,
    PRIMARY KEY (client, job_id)
);

CREATE TABLE receipts (
    receipt_id     text   PRIMARY KEY,
    block_height   bigint NOT NULL REFERENCES blocks (height),
    tx_hash        text   NOT NULL REFERENCES transactions (hash),
    client         text   NOT NULL,
    job_id         numeric(20, 0) NOT NULL,
    miner          text   NOT NULL,
    coordinator    text   NOT NULL,
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
    address             text    PRIMARY KEY,
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
    tx_hash       text   NOT NULL REFERENCES transactions (hash),
    event_index   integer NOT NULL,
    offender      text   NOT NULL,
    kind          text   NOT NULL,
    slot_or_round bigint NOT NULL,
    amount        numeric(39, 0) NOT NULL,
    reporter      text   NOT NULL,
    to_reporter   numeric(39, 0) NOT NULL,
    PRIMARY KEY (tx_hash, event_index)
);
CREATE INDEX offences_offender ON offences (offender);
