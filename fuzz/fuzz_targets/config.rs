//! Fuzzes the config readers: the gateway's `switchyard.toml` ([`Config::from_toml`]) and a
//! user catalog file merged over the bundled one ([`Catalog::merge_toml`]).
//!
//! Beyond "no panic": a refused config must say why, each error naming a non-empty field path
//! and message (an error without a path cannot be fixed); after an accepted catalog file, every
//! model is found by its provider and id, and has a current price.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use switchyard_catalog::Catalog;
use switchyard_gateway::Config;

fn bundled() -> &'static Option<Catalog> {
    static CATALOG: OnceLock<Option<Catalog>> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::bundled().ok())
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Err(errors) = Config::from_toml(text) {
        assert!(!errors.0.is_empty(), "a refused config lists its errors");
        for e in &errors.0 {
            assert!(!e.path.is_empty(), "a config error names its field: {e:?}");
            assert!(!e.message.is_empty(), "a config error says why: {e:?}");
        }
        let _ = errors.to_string();
    }
    if let Some(catalog) = bundled() {
        let mut merged = catalog.clone();
        if merged.merge_toml(text, "fuzz.toml").is_ok() {
            for m in merged.models() {
                let found = merged.get(&m.provider, &m.id).map(|f| f.key());
                assert_eq!(found, Some(m.key()), "every model is found by its id");
                let _ = m.current_price();
            }
        }
    }
});
