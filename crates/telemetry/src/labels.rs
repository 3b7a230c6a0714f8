//! Label values with a bound: every value a series can carry is a [`Sym`], an index into an
//! append-only table of names. Routes, providers and models come from the config (anything
//! else is [`OTHER`]); workloads from the config plus the first `max_workloads` others seen,
//! then [`OTHER`]. So no request, however it is built, can add more than a fixed number of
//! series, and a per-request lookup is one hash of a short string, never an allocation.

use std::collections::HashMap as StdMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock, RwLockReadGuard};

/// FNV-1a: label values and series keys are short, so a hasher of a few instructions a byte
/// replaces SipHash on the request path. Flooding is bounded by construction: the maps hold
/// only the config's names and at most `max_workloads` admitted workloads (an unknown value
/// is `other` before it reaches a series), so even chosen collisions make a lookup scan a
/// bounded bucket, never grow one.
#[derive(Default)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A map hashed with [`Fnv`].
pub type HashMap<K, V> = StdMap<K, V, BuildHasherDefault<Fnv>>;

/// The value a label takes when the real one is not in the bounded set.
pub const OTHER: &str = "other";
/// The workload label of a request that named none.
pub const NONE: &str = "none";

/// An interned label value: an index into [`Labels`]' table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub(crate) u32);

/// What the config declares, in force until the next reload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    pub routes: Vec<String>,
    pub providers: Vec<String>,
    pub models: Vec<String>,
    pub workloads: Vec<String>,
}

#[derive(Default)]
struct Sets {
    routes: HashMap<Box<str>, Sym>,
    providers: HashMap<Box<str>, Sym>,
    models: HashMap<Box<str>, Sym>,
    /// Declared workloads and those admitted under the cap.
    workloads: HashMap<Box<str>, Sym>,
    /// Workloads admitted under the cap (not declared), kept across reloads.
    admitted: usize,
}

/// The bounded label sets and the table of every name ever interned.
pub struct Labels {
    names: RwLock<Vec<Arc<str>>>,
    sets: RwLock<Sets>,
    max_workloads: usize,
    other: Sym,
    none: Sym,
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl Labels {
    pub fn new(max_workloads: usize) -> Self {
        let names = vec![Arc::<str>::from(OTHER), Arc::<str>::from(NONE)];
        Labels {
            names: RwLock::new(names),
            sets: RwLock::default(),
            max_workloads,
            other: Sym(0),
            none: Sym(1),
        }
    }

    pub fn other(&self) -> Sym {
        self.other
    }

    /// The name behind `sym` (scrape time).
    pub fn name(&self, sym: Sym) -> Arc<str> {
        read(&self.names)
            .get(sym.0 as usize)
            .cloned()
            .unwrap_or_else(|| Arc::from(OTHER))
    }

    /// Every name interned so far, indexed by [`Sym`] (scrape time).
    pub fn names(&self) -> Vec<Arc<str>> {
        read(&self.names).clone()
    }

    fn intern(&self, name: &str) -> Sym {
        let mut names = write(&self.names);
        if let Some(i) = names.iter().position(|n| &**n == name) {
            return Sym(i as u32);
        }
        names.push(Arc::from(name));
        Sym((names.len() - 1) as u32)
    }

    fn set_of(&self, names: &[String]) -> HashMap<Box<str>, Sym> {
        names
            .iter()
            .map(|n| (Box::from(n.as_str()), self.intern(n)))
            .collect()
    }

    /// Replaces the declared sets (at start and on every reload). Workloads admitted under the
    /// cap stay admitted, so a reload never moves a series to `other`.
    pub fn configure(&self, known: &Known) {
        let routes = self.set_of(&known.routes);
        let providers = self.set_of(&known.providers);
        let models = self.set_of(&known.models);
        let declared = self.set_of(&known.workloads);
        let mut sets = write(&self.sets);
        let mut workloads = declared;
        for (name, sym) in sets.workloads.drain() {
            workloads.entry(name).or_insert(sym);
        }
        sets.routes = routes;
        sets.providers = providers;
        sets.models = models;
        sets.workloads = workloads;
    }

    pub fn route(&self, name: &str) -> Sym {
        read(&self.sets)
            .routes
            .get(name)
            .copied()
            .unwrap_or(self.other)
    }

    pub fn provider(&self, name: Option<&str>) -> Sym {
        let Some(name) = name else { return self.none };
        let sets = read(&self.sets);
        sets.providers.get(name).copied().unwrap_or(self.other)
    }

    pub fn model(&self, name: Option<&str>) -> Sym {
        let Some(name) = name else { return self.none };
        let sets = read(&self.sets);
        sets.models.get(name).copied().unwrap_or(self.other)
    }

    /// The workload's label: declared or already admitted, else admitted while fewer than
    /// `max_workloads` have been, else `other`.
    pub fn workload(&self, name: Option<&str>) -> Sym {
        let Some(name) = name else { return self.none };
        if let Some(s) = read(&self.sets).workloads.get(name) {
            return *s;
        }
        if name.len() > 64 || name == OTHER || name == NONE {
            return self.other;
        }
        let mut sets = write(&self.sets);
        if let Some(s) = sets.workloads.get(name) {
            return *s;
        }
        if sets.admitted >= self.max_workloads {
            return self.other;
        }
        sets.admitted += 1;
        drop(sets);
        let sym = self.intern(name);
        write(&self.sets).workloads.insert(Box::from(name), sym);
        sym
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(max: usize) -> Labels {
        let l = Labels::new(max);
        l.configure(&Known {
            routes: vec!["chat".into()],
            providers: vec!["openai".into()],
            models: vec!["gpt-4o-mini".into()],
            workloads: vec!["support".into()],
        });
        l
    }

    #[test]
    fn names_outside_the_config_are_other() {
        let l = labels(2);
        assert_eq!(&*l.name(l.route("chat")), "chat");
        assert_eq!(l.route("no-such-route"), l.other());
        assert_eq!(l.provider(Some("evil")), l.other());
        assert_eq!(l.model(Some("gpt-4o-mini\"}")), l.other());
        assert_eq!(&*l.name(l.provider(None)), NONE);
    }

    #[test]
    fn workloads_past_the_cap_are_other_and_declared_ones_never_are() {
        let l = labels(2);
        let a = l.workload(Some("a"));
        let b = l.workload(Some("b"));
        assert_ne!(a, l.other());
        assert_ne!(b, l.other());
        assert_eq!(l.workload(Some("c")), l.other());
        assert_eq!(
            l.workload(Some("a")),
            a,
            "an admitted workload keeps its label"
        );
        assert_ne!(l.workload(Some("support")), l.other());
        // A reload keeps what was admitted and does not reopen the cap.
        l.configure(&Known::default());
        assert_eq!(l.workload(Some("b")), b);
        assert_eq!(l.workload(Some("d")), l.other());
        assert_eq!(
            l.route("chat"),
            l.other(),
            "a route removed by a reload is other"
        );
    }
}
