//! The tokenizer-ratio table (scenario::family_ratio) is measured where a tokenizer is
//! available here: OpenAI's cl100k_base against o200k_base on a mixed sample of prose, code,
//! SQL, JSON and instructions (tests/data/tokenizer-sample.txt).

use rust_decimal::prelude::ToPrimitive;
use switchyard_strategy::scenario::family_ratio;

#[test]
fn cl100k_over_o200k_matches_the_table() {
    let text = include_str!("data/tokenizer-sample.txt");
    let o200k = tiktoken_rs::o200k_base_singleton()
        .encode_ordinary(text)
        .len() as f64;
    let cl100k = tiktoken_rs::cl100k_base_singleton()
        .encode_ordinary(text)
        .len() as f64;
    let measured = cl100k / o200k;
    let table = family_ratio("gpt-4").0.to_f64().unwrap();
    println!("o200k {o200k}, cl100k {cl100k}, ratio {measured:.4}, table {table}");
    assert!(
        (measured - table).abs() < 0.03,
        "measured {measured:.4}, table says {table}"
    );
    assert_eq!(family_ratio("gpt-4o").0.to_f64().unwrap(), 1.0);
}
