//! Encryption at rest of a stay's notes and identity fields, under a key only the shelter
//! side holds (XChaCha20-Poly1305 from RustCrypto: a random 192-bit nonce per value, so
//! nonces never repeat in practice, and tampering is detected).

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{AppError, Result};

const NONCE_BYTES: usize = 24;

pub struct Cipher {
    aead: XChaCha20Poly1305,
}

impl Cipher {
    /// A key given as 32 bytes in base64 (`shelter.encryption_key`).
    pub fn from_base64(key: &SecretString) -> Result<Cipher> {
        let bytes = STANDARD
            .decode(key.expose_secret().trim())
            .map_err(|_| AppError::Config("shelter.encryption_key is not base64".into()))?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Cipher> {
        let aead = XChaCha20Poly1305::new_from_slice(bytes).map_err(|_| {
            AppError::Config("shelter.encryption_key must be 32 bytes (base64)".into())
        })?;
        Ok(Cipher { aead })
    }

    /// The key in `path`, made (random, readable by the owner only) if it does not exist:
    /// the default for a SQLite register, so a fresh install encrypts from the first stay.
    /// Production sets `shelter.encryption_key` from its secret store instead.
    pub fn from_key_file(path: &Path) -> Result<Cipher> {
        if !path.exists() {
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            write_private(path, STANDARD.encode(key).as_bytes())?;
        }
        let text = std::fs::read_to_string(path)?;
        Self::from_base64(&SecretString::from(text))
    }

    pub fn encrypt(&self, plaintext: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| AppError::Internal("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    pub fn decrypt(&self, stored: &str) -> Result<String> {
        let bytes = STANDARD
            .decode(stored)
            .map_err(|_| AppError::Internal("a stored secret is not base64".into()))?;
        if bytes.len() < NONCE_BYTES {
            return Err(AppError::Internal("a stored secret is truncated".into()));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .aead
            .decrypt(XNonce::from_slice(nonce), sealed)
            .map_err(|_| {
                AppError::Internal("a stored secret does not open with this key".into())
            })?;
        String::from_utf8(plain)
            .map_err(|_| AppError::Internal("a stored secret is not text".into()))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_its_key_and_is_not_the_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let one = Cipher::from_key_file(&dir.path().join("a.key")).unwrap();
        let again = Cipher::from_key_file(&dir.path().join("a.key")).unwrap();
        let other = Cipher::from_key_file(&dir.path().join("b.key")).unwrap();
        let sealed = one.encrypt("Mies uhkasi tappaa; lapset 3 ja 6 v.").unwrap();
        assert!(!sealed.contains("uhkasi"));
        assert_ne!(
            sealed,
            one.encrypt("Mies uhkasi tappaa; lapset 3 ja 6 v.").unwrap()
        );
        assert_eq!(
            again.decrypt(&sealed).unwrap(),
            "Mies uhkasi tappaa; lapset 3 ja 6 v."
        );
        assert!(other.decrypt(&sealed).is_err());
        let mut tampered = STANDARD.decode(&sealed).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(one.decrypt(&STANDARD.encode(tampered)).is_err());
        assert!(Cipher::from_base64(&SecretString::from("c2hvcnQ=")).is_err());
    }
}
