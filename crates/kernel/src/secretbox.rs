//! Secrets kept at rest (TOTP seeds, identity providers' client secrets): ChaCha20-Poly1305 with
//! the server's `secret_key`, a fresh nonce each time, stored as `v1.<base64(nonce‖ciphertext)>`.
//! The same key, through a derived one, also authenticates short values the server hands out and
//! must recognise (HMAC-SHA-256, [`SecretBox::mac`]).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
    /// SHA-256 of a label and the key: never the encryption key itself.
    mac_key: [u8; 32],
}

impl SecretBox {
    /// From 32 bytes of key material, base64-encoded.
    pub fn from_base64(key: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| "secret_key: not base64".to_owned())?;
        if bytes.len() != 32 {
            return Err(format!(
                "secret_key: {} bytes, need 32 (generate with `openssl rand -base64 32`)",
                bytes.len()
            ));
        }
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "secret_key: need 32 bytes".to_owned())?;
        let mut d = Sha256::new();
        d.update(b"sportello mac key v1\0");
        d.update(key);
        Ok(Self {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
            mac_key: d.finalize().into(),
        })
    }

    /// HMAC-SHA-256 of `parts` (each length-prefixed, so no two lists give the same input) under
    /// a key derived for `purpose`; URL-safe base64 (43 characters).
    pub fn mac(&self, purpose: &str, parts: &[&[u8]]) -> String {
        let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key) else {
            return String::new();
        };
        for p in std::iter::once(purpose.as_bytes()).chain(parts.iter().copied()) {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
    }

    pub fn seal(&self, plain: &[u8]) -> Result<String, String> {
        let mut n = [0u8; 12];
        rand::rng().fill_bytes(&mut n);
        let ct = self
            .cipher
            .encrypt(&Nonce::from(n), plain)
            .map_err(|_| "encryption failed".to_owned())?;
        let mut out = n.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("v1.{}", STANDARD.encode(out)))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, String> {
        let b64 = sealed
            .strip_prefix("v1.")
            .ok_or_else(|| "unknown secret format".to_owned())?;
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| "secret is not base64".to_owned())?;
        if raw.len() < 12 + 16 {
            return Err("secret too short".into());
        }
        let (n, ct) = raw.split_at(12);
        let n: [u8; 12] = n.try_into().map_err(|_| "secret too short".to_owned())?;
        self.cipher
            .decrypt(&Nonce::from(n), ct)
            .map_err(|_| "secret cannot be decrypted with this key".to_owned())
    }
}
