//! The transactions a simulation submits: transfers between a few accounts (small blocks) and
//! root's authority-set changes, each signed with the sender's nonce as the receiving node sees
//! it and submitted to that node, as a wallet would.

use aitbc_client::Client;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{AccountId, Balance, Extrinsic, Pair, StateMachine};
use aitbc_runtime::authority::AuthoritySet;
use aitbc_runtime::{balances, sudo, Call, Runtime};
use codec::Encode;
use rand::rngs::StdRng;
use rand::Rng;

/// The accounts that send transfers.
pub const USERS: usize = 8;
/// What each of them starts with.
pub const ENDOWMENT: Balance = 1_000_000_000_000;

/// The dev key of user `i`.
pub fn user(i: usize) -> Pair {
    dev_pair(&format!("sim-user-{i}"))
}

/// The chain's sudo key.
pub fn root() -> Pair {
    dev_pair("sim-sudo")
}

/// Signs `call` as `pair` with its next nonce at `client`'s best block and submits it there.
/// False if the node refused it (a stale view, a full pool: the next step tries again).
fn submit(client: &Client<Runtime>, pair: &Pair, call: Call) -> bool {
    let Ok(state) = client.state() else {
        return false;
    };
    let nonce = client.runtime().account(&state, &pair.public()).nonce;
    drop(state);
    let params = TxParams {
        nonce,
        tip: 0,
        valid_until: None,
    };
    let xt = Extrinsic::sign(pair, call, params, client.genesis_hash());
    let len = xt.encode().len();
    client.submit_decoded(xt, len).is_ok()
}

/// A transfer between two users drawn from `rng`, submitted to `client`.
pub fn transfer(rng: &mut StdRng, client: &Client<Runtime>) -> bool {
    let from = rng.gen_range(0..USERS);
    let to = (from + rng.gen_range(1..USERS)) % USERS;
    let call = Call::Balances(balances::Call::Transfer {
        dest: user(to).public(),
        amount: rng.gen_range(1..1_000_000),
    });
    submit(client, &user(from), call)
}

/// Root's change of the authority set to `authorities`, submitted to `client`.
pub fn set_authorities(client: &Client<Runtime>, authorities: &[AccountId]) -> bool {
    let Ok(set) = AuthoritySet::try_from_vec(authorities.to_vec()) else {
        return false;
    };
    let call = Call::Sudo(sudo::Call::Sudo {
        call: Box::new(Call::set_authorities(set)),
    });
    submit(client, &root(), call)
}
