//! OpenAI's error body: `{"error":{"message","type","param","code"}}`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorDetail {
    pub message: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub param: Option<String>,
    pub code: Option<String>,
}

impl ErrorBody {
    pub fn new(kind: &str, code: Option<&str>, param: Option<String>, message: String) -> Self {
        ErrorBody {
            error: ErrorDetail {
                message,
                kind: kind.to_string(),
                param,
                code: code.map(str::to_string),
            },
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| br#"{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}"#.to_vec())
    }
}
