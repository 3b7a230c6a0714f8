//! Embed lines from stdin and print the first dims and timing.
//!
//! `cargo run --release -p switchyard-localembed --features candle --example embed < file.txt`
use std::io::BufRead;
use std::time::Instant;

use switchyard_localembed::{MiniLm, find_model_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = find_model_dir().ok_or("all-MiniLM-L6-v2 not found: set SWITCHYARD_MINILM_DIR")?;
    let t0 = Instant::now();
    let model = MiniLm::load(&dir)?;
    eprintln!(
        "loaded {} in {:?}",
        model.model_dir().display(),
        t0.elapsed()
    );
    let lines: Vec<String> = std::io::stdin().lock().lines().collect::<Result<_, _>>()?;
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let t1 = Instant::now();
    let vecs = model.embed(&refs)?;
    eprintln!("embedded {} texts in {:?}", vecs.len(), t1.elapsed());
    for (text, v) in refs.iter().zip(&vecs) {
        println!("{text:?}: {:?}", &v[..4.min(v.len())]);
    }
    Ok(())
}
