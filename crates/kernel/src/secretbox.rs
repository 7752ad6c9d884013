//! Secrets kept at rest (TOTP seeds, identity providers' client secrets): ChaCha20-Poly1305 with
//! the server's `secret_key`, a fresh nonce each time, stored as `v1.<base64(nonce‖ciphertext)>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
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
        Ok(Self {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        })
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
