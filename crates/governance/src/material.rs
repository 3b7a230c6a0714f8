//! Key material: random secrets and ids, their SHA-256 digests, constant-time comparison.
//!
//! Only the digest of a secret is ever stored; the secret itself exists once, in the value
//! returned to the operator who created or rotated the key.

use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};

/// Every virtual-key secret starts with this.
pub const SECRET_PREFIX: &str = "sk-sy-";
/// How many leading characters of a secret are kept for display (`sk-sy-AbCd`).
pub const DISPLAY_PREFIX_CHARS: usize = 10;

/// The random source failed (the OS refused to provide entropy).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the operating system's random number generator failed; try again")]
pub struct RandomError;

/// A new secret: the prefix and 32 random bytes, base64url without padding.
pub(crate) fn new_secret(rng: &SystemRandom) -> Result<String, RandomError> {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes).map_err(|_| RandomError)?;
    let mut s = String::with_capacity(SECRET_PREFIX.len() + 43);
    s.push_str(SECRET_PREFIX);
    base64url(&bytes, &mut s);
    Ok(s)
}

/// A new key id: `key_` and 12 random hex characters.
pub(crate) fn new_key_id(rng: &SystemRandom) -> Result<String, RandomError> {
    let mut bytes = [0u8; 6];
    rng.fill(&mut bytes).map_err(|_| RandomError)?;
    Ok(format!("key_{}", hex(&bytes)))
}

/// The part of a secret that may be shown.
pub(crate) fn display_prefix(secret: &str) -> String {
    secret.chars().take(DISPLAY_PREFIX_CHARS).collect()
}

/// SHA-256 of the secret.
pub(crate) fn digest_of(secret: &str) -> [u8; 32] {
    let d = digest(&SHA256, secret.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// SHA-256 of the secret, as lowercase hex (what the store keeps).
pub fn hash_hex(secret: &str) -> String {
    hex(&digest_of(secret))
}

/// Parses a 64-character hex digest.
pub(crate) fn parse_hash_hex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// Equality whose time does not depend on where the inputs differ.
pub(crate) fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// RFC 4648 §5 base64url, without padding.
fn base64url(bytes: &[u8], out: &mut String) {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        let mut s = String::new();
        base64url(bytes, &mut s);
        s
    }

    #[test]
    fn base64url_matches_rfc4648_vectors_without_padding() {
        assert_eq!(b64(b""), "");
        assert_eq!(b64(b"f"), "Zg");
        assert_eq!(b64(b"fo"), "Zm8");
        assert_eq!(b64(b"foo"), "Zm9v");
        assert_eq!(b64(b"foob"), "Zm9vYg");
        assert_eq!(b64(b"fooba"), "Zm9vYmE");
        assert_eq!(b64(b"foobar"), "Zm9vYmFy");
        // The url-safe alphabet: 0xfb 0xff → "-_8" rather than "+/8".
        assert_eq!(b64(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn secrets_and_ids_have_the_documented_shape_and_differ() {
        let rng = SystemRandom::new();
        let a = new_secret(&rng).unwrap();
        let b = new_secret(&rng).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("sk-sy-"));
        assert_eq!(a.len(), 6 + 43);
        assert!(
            a[6..]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        let id = new_key_id(&rng).unwrap();
        assert_eq!(id.len(), 16);
        assert!(id.starts_with("key_") && id[4..].bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(display_prefix(&a), a[..10]);
    }

    #[test]
    fn hash_is_sha256_hex_and_round_trips() {
        // SHA-256("abc") from FIPS 180-2.
        let h = hash_hex("abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(parse_hash_hex(&h), Some(digest_of("abc")));
        assert_eq!(parse_hash_hex("zz"), None);
        assert!(constant_time_eq(&digest_of("abc"), &digest_of("abc")));
        assert!(!constant_time_eq(&digest_of("abc"), &digest_of("abd")));
    }
}
