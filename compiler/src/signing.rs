//! Signing snapshots with Ed25519 (`bareflow keygen`, `bareflow compile --sign`).
//!
//! The trailer layout and verification live in `runtime_loader::sign` (docs/SNAPSHOT.md,
//! "Signed snapshots"); this module holds the secret side: key generation from the OS's
//! random source, the key files, and signing. Both sides use `ed25519-compact`.
//!
//! Key files (text, one line):
//!
//! | file | content |
//! |---|---|
//! | `PREFIX.key` (secret, mode 0600) | 128 hex digits: the 32-byte seed, then the 32-byte public key |
//! | `PREFIX.pub` | 64 hex digits: the 32-byte public key (what `bareflow-load --pubkey` reads) |

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_compact::{KeyPair, Seed};
use runtime_loader::LoadError;

/// Why a key could not be made, read or used.
#[derive(Debug)]
pub enum KeyError {
    /// The random source or a key file could not be read or written.
    Io(std::io::Error),
    /// A key file's content is not what `bareflow keygen` writes.
    Malformed(&'static str),
    /// The key file's public half does not belong to its secret seed.
    Mismatch,
    /// A key file already exists (`keygen` never overwrites one).
    Exists(PathBuf),
    /// The snapshot to sign is invalid or already signed.
    Snapshot(LoadError),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Io(e) => write!(f, "{e}"),
            KeyError::Malformed(why) => write!(f, "malformed key file: {why}"),
            KeyError::Mismatch => {
                f.write_str("corrupt secret key file: its public key does not match its seed")
            }
            KeyError::Exists(p) => write!(f, "{} already exists (not overwritten)", p.display()),
            KeyError::Snapshot(e) => write!(f, "cannot sign snapshot: {e}"),
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyError::Io(e) => Some(e),
            KeyError::Snapshot(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for KeyError {
    fn from(e: std::io::Error) -> Self {
        KeyError::Io(e)
    }
}

/// An Ed25519 key pair for signing snapshots.
pub struct SigningKey {
    pair: KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("SigningKey")
            .field("public", &to_hex(&self.public_key()))
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new key from 32 bytes of the operating system's random source (`/dev/urandom`).
    ///
    /// # Errors
    /// [`KeyError::Io`] if the random source cannot be read.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut seed)?;
        Self::from_seed(seed)
    }

    /// The key whose secret seed is `seed` (RFC 8032 "private key").
    ///
    /// # Errors
    /// [`KeyError::Malformed`] for the all-zero seed, which no random source yields.
    pub fn from_seed(seed: [u8; 32]) -> Result<Self, KeyError> {
        KeyPair::try_from_seed(Seed::new(seed))
            .map(|pair| SigningKey { pair })
            .map_err(|_| KeyError::Malformed("all-zero seed"))
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        *self.pair.pk
    }

    /// The secret key file's content: seed and public key in hex, one line.
    pub fn secret_file_text(&self) -> String {
        format!("{}\n", to_hex(&self.pair.sk[..]))
    }

    /// The public key file's content: the public key in hex, one line.
    pub fn public_file_text(&self) -> String {
        format!("{}\n", to_hex(&self.public_key()))
    }

    /// Parses a secret key file ([`SigningKey::secret_file_text`]).
    ///
    /// # Errors
    /// [`KeyError::Malformed`] (including a public key file given by mistake),
    /// [`KeyError::Mismatch`] if the public half does not belong to the seed.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let t = text.trim();
        if t.len() == 64 {
            return Err(KeyError::Malformed(
                "this is a public key (PREFIX.pub); signing needs the secret PREFIX.key",
            ));
        }
        let bytes: [u8; 64] = from_hex(t).ok_or(KeyError::Malformed(
            "expected 128 hex digits (bareflow keygen's PREFIX.key)",
        ))?;
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&bytes[..32]);
        let key = Self::from_seed(seed)?;
        if key.public_key()[..] != bytes[32..] {
            return Err(KeyError::Mismatch);
        }
        Ok(key)
    }

    /// Reads a secret key file.
    ///
    /// # Errors
    /// As [`SigningKey::parse`], or [`KeyError::Io`].
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        Self::parse(&crate::fsio::read_input_text(path)?)
    }

    /// Signs the unsigned snapshot `snapshot` (RFC 8032 Ed25519, deterministic): the result
    /// is the signed snapshot (header flag `SIGNED`, trailer with the signature).
    ///
    /// # Errors
    /// [`KeyError::Snapshot`] if `snapshot` is invalid or already signed.
    pub fn sign_snapshot(&self, snapshot: &[u8]) -> Result<Vec<u8>, KeyError> {
        runtime_loader::sign::sign_snapshot(snapshot, &mut |m| *self.pair.sk.sign(m, None))
            .map_err(KeyError::Snapshot)
    }

    /// Writes `PREFIX.key` (mode 0600) and `PREFIX.pub`, each atomically (written to a
    /// temporary file, then linked into place, which fails rather than replace a file).
    /// Returns the two paths.
    ///
    /// # Errors
    /// [`KeyError::Exists`] if either file exists (then neither is written), or
    /// [`KeyError::Io`].
    pub fn write_files(&self, prefix: &Path) -> Result<(PathBuf, PathBuf), KeyError> {
        let with_ext = |ext: &str| {
            let mut s = prefix.as_os_str().to_owned();
            s.push(ext);
            PathBuf::from(s)
        };
        let (secret, public) = (with_ext(".key"), with_ext(".pub"));
        for p in [&secret, &public] {
            if p.symlink_metadata().is_ok() {
                return Err(KeyError::Exists(p.clone()));
            }
        }
        create_new_atomic(&secret, self.secret_file_text().as_bytes(), 0o600)?;
        if let Err(e) = create_new_atomic(&public, self.public_file_text().as_bytes(), 0o644) {
            let _ = std::fs::remove_file(&secret);
            return Err(e);
        }
        Ok((secret, public))
    }
}

/// Creates `path` with `bytes` and permissions `mode` through a random `O_EXCL` temporary
/// file beside it, hard-linked into place ([`crate::fsio::create_new`]): `path` appears
/// complete or not at all, an existing file (or planted symlink) is never replaced, and the
/// temporary file is removed on every path.
fn create_new_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    match crate::fsio::create_new(path, bytes, mode) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(KeyError::Exists(path.to_path_buf()))
        }
        Err(e) => Err(KeyError::Io(e)),
    }
}

/// Parses a public key file (64 hex digits, surrounding whitespace ignored).
///
/// # Errors
/// [`KeyError::Malformed`].
pub fn parse_public_key(text: &str) -> Result<[u8; 32], KeyError> {
    let key: [u8; 32] = from_hex(text.trim()).ok_or(KeyError::Malformed(
        "expected 64 hex digits (bareflow keygen's PREFIX.pub)",
    ))?;
    ed25519_compact::PublicKey::new(key)
        .validate()
        .map_err(|_| KeyError::Malformed("not a valid Ed25519 public key"))?;
    Ok(key)
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Exactly `2 * N` hex digits → `N` bytes.
fn from_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 section 7.1 test 1 through the key file format.
    #[test]
    fn key_files_round_trip_rfc8032_key() {
        let seed: [u8; 32] =
            from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").unwrap();
        let key = SigningKey::from_seed(seed).unwrap();
        assert_eq!(
            key.public_file_text(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n"
        );
        let again = SigningKey::parse(&key.secret_file_text()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert_eq!(
            parse_public_key(&key.public_file_text()).unwrap(),
            key.public_key()
        );
        // Mixed up files and corruption are refused.
        assert!(matches!(
            SigningKey::parse(&key.public_file_text()),
            Err(KeyError::Malformed(m)) if m.contains("public key")
        ));
        assert!(parse_public_key(&key.secret_file_text()).is_err());
        let mut t = key.secret_file_text().into_bytes();
        t[100] = if t[100] == b'0' { b'1' } else { b'0' };
        assert!(matches!(
            SigningKey::parse(std::str::from_utf8(&t).unwrap()),
            Err(KeyError::Mismatch)
        ));
        assert!(SigningKey::parse("zz").is_err());
        assert!(SigningKey::parse(&"é".repeat(64)).is_err());
        assert!(format!("{key:?}").contains("d75a98"));
        assert!(!format!("{key:?}").contains("9d61b1"));
    }

    #[test]
    fn generated_keys_differ() {
        let a = SigningKey::generate().unwrap();
        let b = SigningKey::generate().unwrap();
        assert_ne!(a.public_key(), b.public_key());
    }
}
