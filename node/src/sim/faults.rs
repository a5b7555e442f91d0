//! The faults a simulation may inject, by name (`--faults LIST`), and the count of each that a
//! run injected.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// Deliveries wait a while (a slow network).
    Delay,
    /// Deliveries wait a random while each, so later ones overtake earlier ones.
    Reorder,
    /// Deliveries are lost.
    Drop,
    /// Gossip deliveries arrive twice.
    Dup,
    /// The network splits in two, and heals later.
    Partition,
    /// A node crashes (unsynced writes are lost) and restarts later.
    Crash,
    /// A node's clock runs ahead or behind, within what import accepts.
    Skew,
    /// One authority key is Byzantine: two nodes sign with it (equivocating blocks and votes),
    /// it votes for unknown blocks, withholds its blocks and lies in sync answers.
    Byzantine,
    /// Root replaces an authority (a set change through finality).
    Authorities,
}

impl Fault {
    pub const ALL: [Fault; 9] = [
        Fault::Delay,
        Fault::Reorder,
        Fault::Drop,
        Fault::Dup,
        Fault::Partition,
        Fault::Crash,
        Fault::Skew,
        Fault::Byzantine,
        Fault::Authorities,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Delay => "delay",
            Fault::Reorder => "reorder",
            Fault::Drop => "drop",
            Fault::Dup => "dup",
            Fault::Partition => "partition",
            Fault::Crash => "crash",
            Fault::Skew => "skew",
            Fault::Byzantine => "byzantine",
            Fault::Authorities => "authorities",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The faults a run may inject.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Faults(Vec<Fault>);

impl Faults {
    pub fn all() -> Faults {
        Faults(Fault::ALL.to_vec())
    }

    pub fn none() -> Faults {
        Faults(Vec::new())
    }

    pub fn has(&self, fault: Fault) -> bool {
        self.0.contains(&fault)
    }
}

impl FromStr for Faults {
    type Err = String;

    /// `all`, `none`, or a comma-separated list of fault names.
    fn from_str(s: &str) -> Result<Faults, String> {
        match s.trim() {
            "all" => return Ok(Faults::all()),
            "none" | "" => return Ok(Faults::none()),
            _ => {}
        }
        let mut out = Vec::new();
        for name in s.split(',').map(str::trim) {
            let fault = Fault::ALL
                .into_iter()
                .find(|f| f.name() == name)
                .ok_or_else(|| {
                    let known: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
                    format!(
                        "unknown fault {name:?} (known: {}, all, none)",
                        known.join(", ")
                    )
                })?;
            if !out.contains(&fault) {
                out.push(fault);
            }
        }
        out.sort();
        Ok(Faults(out))
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        if self.0.len() == Fault::ALL.len() {
            return f.write_str("all");
        }
        let names: Vec<_> = self.0.iter().map(|f| f.name()).collect();
        f.write_str(&names.join(","))
    }
}

/// How many faults of each kind a run injected.
pub type Injected = BTreeMap<Fault, u64>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_lists_parse_and_print_back() {
        assert_eq!("all".parse::<Faults>().unwrap(), Faults::all());
        assert_eq!(Faults::all().to_string(), "all");
        let some: Faults = "crash, partition,crash".parse().unwrap();
        assert!(some.has(Fault::Crash) && some.has(Fault::Partition));
        assert!(!some.has(Fault::Drop));
        assert_eq!(some.to_string(), "partition,crash");
        assert_eq!(some.to_string().parse::<Faults>().unwrap(), some);
        let err = "crash,meteor".parse::<Faults>().unwrap_err();
        assert!(err.contains("unknown fault \"meteor\""), "{err}");
        assert_eq!("none".parse::<Faults>().unwrap(), Faults::none());
    }
}
