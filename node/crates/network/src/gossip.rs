//! Gossip: publishing on our topics, handing gossiped messages to the node and passing its
//! verdicts to gossipsub, and the per-peer gossip rate limit.
//!
//! Every message that reaches the node as [`NetworkEvent::Gossip`] awaits its verdict; one not
//! handed over (a topic not ours, a full event channel, a peer over its rate) is answered
//! `Ignore` at once. New messages are counted per forwarding peer in windows of
//! [`GOSSIP_WINDOW`]: past [`NetworkConfig::max_gossip_per_sec`] they are dropped, the first
//! excess message of a window charges `Flood`, and an excess of half the limit in one window
//! bans the peer.
//!
//! [`NetworkConfig::max_gossip_per_sec`]: super::NetworkConfig::max_gossip_per_sec

use std::time::{Duration, Instant};

use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::PeerId;

use super::reputation::Misbehaviour;
use super::service::Worker;
use super::{NetworkEvent, Topic, Validation, LOG};

/// Window of the per-peer gossip rate limit.
const GOSSIP_WINDOW: Duration = Duration::from_secs(1);

impl Worker {
    pub(crate) fn publish(&mut self, topic: Topic, data: Vec<u8>) {
        let ident = topic.ident(&self.config.genesis_hash);
        if let Err(e) = self.swarm.behaviour_mut().gossipsub.publish(ident, data) {
            tracing::debug!(target: LOG, topic = topic.name(), error = %e, "not published");
        }
    }

    /// Tells gossipsub the verdict on a message (forward, drop, or drop and charge `peer`).
    pub(crate) fn validate(
        &mut self,
        message_id: &gossipsub::MessageId,
        peer: PeerId,
        result: Validation,
    ) {
        let acceptance = match result {
            Validation::Accept => MessageAcceptance::Accept,
            Validation::Ignore => MessageAcceptance::Ignore,
            Validation::Reject(_) => MessageAcceptance::Reject,
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(message_id, &peer, acceptance);
        if let Validation::Reject(what) = result {
            self.report(peer, what);
        }
    }

    pub(crate) fn on_gossip(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        } = event
        else {
            return;
        };
        if !self.gossip_within_rate(propagation_source) {
            self.validate(&message_id, propagation_source, Validation::Ignore);
            return;
        }
        let Some(topic) = self.topics.get(&message.topic).copied() else {
            self.validate(&message_id, propagation_source, Validation::Ignore);
            return;
        };
        let event = NetworkEvent::Gossip {
            topic,
            peer: propagation_source,
            message_id: message_id.clone(),
            data: message.data,
        };
        if self.events.try_send(event).is_err() {
            tracing::debug!(target: LOG, "event channel full: gossip message dropped");
            self.validate(&message_id, propagation_source, Validation::Ignore);
        }
    }

    /// Counts a new gossip message from `peer` against [`NetworkConfig::max_gossip_per_sec`];
    /// `false` when it is over: the message is dropped unread. The first excess message of a
    /// window charges `Flood`; an excess of half the limit in one window (a peer at 1.5 times the
    /// rate) bans at once. Small charges alone could not get a gossip flooder banned: at -80
    /// gossipsub graylists the peer (its messages no longer reach us, so nothing more is charged)
    /// and the score decays back before it reaches -100.
    ///
    /// [`NetworkConfig::max_gossip_per_sec`]: super::NetworkConfig::max_gossip_per_sec
    fn gossip_within_rate(&mut self, peer: PeerId) -> bool {
        let limit = u32::try_from(self.config.max_gossip_per_sec).unwrap_or(u32::MAX);
        let now = Instant::now();
        let window = self.gossip_rates.entry(peer).or_insert((now, 0));
        if now.duration_since(window.0) >= GOSSIP_WINDOW {
            *window = (now, 0);
        }
        window.1 = window.1.saturating_add(1);
        let Some(excess) = window.1.checked_sub(limit).filter(|e| *e > 0) else {
            return true;
        };
        if excess == 1 {
            tracing::debug!(target: LOG, %peer, limit, "gossip over the rate: dropped");
            self.report(peer, Misbehaviour::Flood);
        } else if excess == (limit / 2).max(2) {
            self.gossip_rates.remove(&peer);
            self.ban(
                peer,
                &format!("gossip flood: over 1.5 x {limit} new messages in a second"),
            );
        }
        false
    }

    /// Forgets the gossip windows that have ended.
    pub(crate) fn prune_gossip_windows(&mut self, now: Instant) {
        self.gossip_rates
            .retain(|_, (start, _)| now.duration_since(*start) < GOSSIP_WINDOW);
    }
}
