//! Shared golden-file helpers: each input under a golden folder has its expected output beside
//! it, compared as JSON values. `UPDATE_GOLDEN=1` rewrites the expected files (review the diff).

#![allow(dead_code, reason = "each golden test binary uses part of this module")]

use serde_json::Value;
use std::path::{Path, PathBuf};

/// A golden folder, relative to the crate (`tests/golden`, `tests/golden/gemini`, …).
pub struct Golden(pub &'static str);

impl Golden {
    fn dir(&self, kind: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(self.0)
            .join(kind)
    }

    /// The path of `name` in the folder itself.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir("").join(name)
    }

    /// Every input file in `kind` ending in `input_suffix`, with its case name, sorted.
    pub fn cases(&self, kind: &str, input_suffix: &str) -> Vec<(String, PathBuf)> {
        let mut out: Vec<_> = std::fs::read_dir(self.dir(kind))
            .unwrap_or_else(|e| panic!("{}/{kind}: {e}", self.0))
            .filter_map(|e| {
                let p = e.ok()?.path();
                let name = p
                    .file_name()?
                    .to_str()?
                    .strip_suffix(input_suffix)?
                    .to_string();
                Some((name, p))
            })
            .collect();
        out.sort();
        assert!(!out.is_empty(), "no golden cases in {}/{kind}", self.0);
        out
    }

    /// Compares `actual` with the expected file (or rewrites it under `UPDATE_GOLDEN`).
    pub fn check(&self, kind: &str, expected_name: &str, actual: Value) {
        let path = self.dir(kind).join(expected_name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            let text = serde_json::to_string_pretty(&actual).unwrap_or_default() + "\n";
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            return;
        }
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
        let expected: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            actual,
            expected,
            "{kind}/{expected_name} differs; actual:\n{}",
            serde_json::to_string_pretty(&actual).unwrap_or_default()
        );
    }
}
