//! A bounded map that forgets its oldest entries: memory of dropped and banned transactions.

use aitbc_primitives::Hash;
use std::collections::{HashMap, VecDeque};

/// At most `cap` entries; inserting beyond it forgets the oldest.
#[derive(Debug)]
pub(super) struct Recent<V> {
    cap: usize,
    map: HashMap<Hash, V>,
    order: VecDeque<Hash>,
}

impl<V> Recent<V> {
    pub(super) fn new(cap: usize) -> Self {
        Recent {
            cap: cap.max(1),
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    pub(super) fn insert(&mut self, key: Hash, value: V) {
        if self.map.insert(key, value).is_none() {
            self.order.push_back(key);
        }
        while self.map.len() > self.cap {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        // Keys removed out of order leave stale entries in `order`; compact when they dominate.
        if self.order.len() > 2 * self.cap {
            let map = &self.map;
            self.order.retain(|k| map.contains_key(k));
        }
    }

    pub(super) fn get(&self, key: &Hash) -> Option<&V> {
        self.map.get(key)
    }

    pub(super) fn remove(&mut self, key: &Hash) {
        self.map.remove(key);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_beyond_its_cap() {
        let mut r = Recent::new(2);
        let h = |i: u8| Hash([i; 32]);
        r.insert(h(1), 1);
        r.insert(h(2), 2);
        r.insert(h(3), 3);
        assert_eq!((r.get(&h(1)), r.get(&h(3)), r.len()), (None, Some(&3), 2));
        r.remove(&h(2));
        for i in 4..50 {
            r.insert(h(i), i);
        }
        assert_eq!(r.len(), 2);
        assert!(r.order.len() <= 4);
    }
}
