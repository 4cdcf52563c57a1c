//! Hash maps keyed by names the checker, shape inference and fixes look up
//! for every node: foldhash instead of std's SipHash, which took a tenth of
//! `neuride check` on an exporter's 16,000-node transformer. Still seeded per
//! process, so a crafted model cannot pick its collisions in advance.

pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
