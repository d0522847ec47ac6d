//! NHS numbers become a keyed pseudonym on the way in: HMAC-SHA256 with a per-deployment
//! secret, truncated to 128 bits and hex encoded. The number itself is never stored or logged.
//!
//! The key lives in the data folder (`pseudonymisation.key`, readable by the owner only), never
//! in the database. The database keeps only a fingerprint of it, so that a lost or swapped key
//! is impossible to miss: with a different key, new uploads would silently stop linking to
//! the patients already held, so we refuse to import at all until the right key is back.

use crate::IngestError;
use domain::NhsNumber;
use domain::records::Pseudonym;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use store::Store;

type HmacSha256 = Hmac<Sha256>;

pub const KEY_FILE: &str = "pseudonymisation.key";
const FINGERPRINT_KEY: &str = "pseudonymisation_key_fingerprint";

pub struct Pseudonymiser {
    key: [u8; 32],
    /// NHS number digits -> pseudonym, so a patient with many records is hashed once.
    cache: rustc_hash::FxHashMap<[u8; 10], Pseudonym>,
}

/// What happened when the key was opened.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyStatus {
    Existing,
    /// A new key was made: it must be backed up with the database.
    Created(PathBuf),
}

impl Pseudonymiser {
    pub fn from_key(key: [u8; 32]) -> Self {
        Pseudonymiser {
            key,
            cache: Default::default(),
        }
    }

    /// Open the deployment's key from `data_dir`, creating it on first use, and check it
    /// against the fingerprint the database holds.
    pub async fn open(
        data_dir: &Path,
        store: &Store,
    ) -> Result<(Pseudonymiser, KeyStatus), IngestError> {
        let path = data_dir.join(KEY_FILE);
        let recorded = store.meta(FINGERPRINT_KEY).await?;
        let (key, status) = match std::fs::read_to_string(&path) {
            Ok(text) => (parse_key(&text).ok_or_else(|| IngestError::Key(format!("{}: the key file is damaged; expected 64 hexadecimal characters. Restore it from your backup.", path.display())))?, KeyStatus::Existing),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(fp) = &recorded {
                    return Err(IngestError::Key(format!(
                        "{}: the pseudonymisation key is missing, but this database holds patients pseudonymised with a key (fingerprint {fp}). \
                         Restore the key file from your backup; with a new key, new uploads could not be linked to the patients already held.",
                        path.display()
                    )));
                }
                let key = new_key()?;
                write_key(&path, &key)?;
                (key, KeyStatus::Created(path.clone()))
            }
            Err(e) => return Err(IngestError::Key(format!("{}: cannot read the key file: {e}", path.display()))),
        };
        let p = Pseudonymiser::from_key(key);
        let fp = p.fingerprint();
        match recorded {
            Some(r) if r != fp => {
                return Err(IngestError::Key(format!(
                    "{}: this key (fingerprint {fp}) is not the one this database was pseudonymised with (fingerprint {r}). \
                     Use the original key file; nothing was imported.",
                    path.display()
                )));
            }
            Some(_) => {}
            None => store.set_meta(FINGERPRINT_KEY, &fp).await?,
        }
        Ok((p, status))
    }

    /// A short public fingerprint of the key (an HMAC of a fixed text), safe to store and show.
    pub fn fingerprint(&self) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(b"mhsip pseudonymisation key check");
        hex(&mac.finalize().into_bytes()[..8])
    }

    pub fn pseudonym(&mut self, n: &NhsNumber) -> Pseudonym {
        let digits = n.digits();
        if let Some(p) = self.cache.get(&digits) {
            return p.clone();
        }
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(&digits);
        let p = Pseudonym(hex(&mac.finalize().into_bytes()[..16]).into());
        self.cache.insert(digits, p.clone());
        p
    }
}

fn new_key() -> Result<[u8; 32], IngestError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| {
        IngestError::Key(format!(
            "the operating system gave no random bytes for a new key: {e}"
        ))
    })?;
    Ok(key)
}

fn write_key(path: &Path, key: &[u8; 32]) -> Result<(), IngestError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            IngestError::Key(format!(
                "{}: cannot create the data folder: {e}",
                dir.display()
            ))
        })?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    let mut f = opts.open(path).map_err(|e| {
        IngestError::Key(format!(
            "{}: cannot create the key file: {e}",
            path.display()
        ))
    })?;
    f.write_all(format!("{}\n", hex(key)).as_bytes())
        .map_err(|e| {
            IngestError::Key(format!(
                "{}: cannot write the key file: {e}",
                path.display()
            ))
        })?;
    f.sync_all().map_err(|e| {
        IngestError::Key(format!("{}: cannot save the key file: {e}", path.display()))
    })?;
    Ok(())
}

fn parse_key(text: &str) -> Option<[u8; 32]> {
    let t = text.trim();
    if t.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(t.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_number_same_pseudonym_different_key_different_pseudonym() {
        let n = NhsNumber::parse("9434765919").unwrap();
        let mut a = Pseudonymiser::from_key([1; 32]);
        let mut b = Pseudonymiser::from_key([2; 32]);
        let p = a.pseudonym(&n);
        assert_eq!(p, a.pseudonym(&n));
        assert_ne!(p, b.pseudonym(&n));
        assert_eq!(p.0.len(), 32);
        assert!(!p.0.contains("9434765919"));
    }

    #[test]
    fn keys_round_trip_through_hex() {
        let k = [0xAB; 32];
        assert_eq!(parse_key(&format!("{}\n", hex(&k))), Some(k));
        assert_eq!(parse_key("zz"), None);
    }
}
