//! Signed snapshots: the Ed25519 signature trailer (`docs/SNAPSHOT.md`, "Signed snapshots").
//!
//! A signed snapshot is an ordinary container whose header has the [`flags::SIGNED`] bit,
//! followed by a [`TRAILER_SIZE`]-byte trailer: [`TRAILER_MAGIC`], the algorithm
//! ([`ALG_ED25519`]), two reserved zero bytes, and a 64-byte Ed25519 signature over every byte
//! before it (the whole container and the trailer's first 8 bytes). The container's own
//! length field and checksum do not include the trailer.
//!
//! Always available: [`signature_parts`] (the raw split, which [`Snapshot::parse`] uses so
//! that a loader without a key still loads signed snapshots). With the `write` feature,
//! `sign_snapshot` turns an unsigned snapshot into a signed one given a signing function
//! (the compiler supplies Ed25519). With the `sign` feature, `verify` checks the signature
//! with a public key on the raw bytes, before anything is parsed, decoded or mapped.
//!
//! [`Snapshot::parse`]: crate::format::Snapshot::parse

use crate::error::LoadError;
use crate::format::{HEADER_SIZE, MAGIC, flags};

/// The trailer's first four bytes.
pub const TRAILER_MAGIC: [u8; 4] = *b"SIGN";
/// Algorithm id of Ed25519 (RFC 8032, pure: the message is signed as is).
pub const ALG_ED25519: u16 = 1;
/// Size of an Ed25519 signature.
pub const SIGNATURE_SIZE: usize = 64;
/// Size of an Ed25519 public key.
pub const PUBLIC_KEY_SIZE: usize = 32;
/// Size of the trailer: magic, algorithm, reserved, signature.
pub const TRAILER_SIZE: usize = 8 + SIGNATURE_SIZE;

/// A signed snapshot split into its parts (all borrowing the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedParts<'a> {
    /// The container (what [`crate::format::Snapshot`] validates): the file minus the trailer.
    pub container: &'a [u8],
    /// The signed message: every byte before the signature.
    pub message: &'a [u8],
    /// The Ed25519 signature (R ‖ S).
    pub signature: &'a [u8; SIGNATURE_SIZE],
}

/// Splits `file` into container and signature trailer when its header has the `SIGNED` flag;
/// `Ok(None)` for an unsigned snapshot. Reads only the magic, the flags and the declared
/// length; everything else is left to [`crate::format::Snapshot::parse`].
///
/// # Errors
/// [`LoadError::BadMagic`] / [`LoadError::Truncated`] for a file too short or not a snapshot;
/// with the flag set, [`LoadError::Truncated`] if the trailer is missing or cut, and
/// [`LoadError::BadHeader`] if the file is longer than container + trailer or the trailer's
/// magic, algorithm or reserved bytes are wrong.
pub fn signature_parts(file: &[u8]) -> Result<Option<SignedParts<'_>>, LoadError> {
    if file.get(..4).is_none_or(|m| m != MAGIC) {
        return Err(LoadError::BadMagic);
    }
    let header = file.get(..HEADER_SIZE).ok_or(LoadError::Truncated)?;
    let word = |at: usize, n: usize| {
        header[at..at + n]
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    };
    if word(12, 4) as u32 & flags::SIGNED == 0 {
        return Ok(None);
    }
    let declared = word(16, 8);
    let total = declared
        .checked_add(TRAILER_SIZE as u64)
        .ok_or(LoadError::BadHeader)?;
    if (file.len() as u64) < total {
        return Err(LoadError::Truncated);
    }
    if file.len() as u64 != total || declared < HEADER_SIZE as u64 {
        return Err(LoadError::BadHeader);
    }
    let (container, trailer) = file.split_at(declared as usize);
    let (head, signature) = trailer.split_at(8);
    if head[..4] != TRAILER_MAGIC || head[4..6] != ALG_ED25519.to_le_bytes() || head[6..8] != [0, 0]
    {
        return Err(LoadError::BadHeader);
    }
    Ok(Some(SignedParts {
        container,
        message: &file[..file.len() - SIGNATURE_SIZE],
        signature: signature.try_into().map_err(|_| LoadError::Truncated)?,
    }))
}

/// The container part of `file`: `file` itself if unsigned, else `file` minus its trailer.
///
/// # Errors
/// As [`signature_parts`].
pub fn container(file: &[u8]) -> Result<&[u8], LoadError> {
    Ok(signature_parts(file)?.map_or(file, |p| p.container))
}

#[cfg(feature = "write")]
pub use writer::sign_snapshot;

#[cfg(feature = "write")]
mod writer {
    use super::*;
    use crate::format::{CHECKSUM_RANGE, Snapshot, file_checksum};
    use alloc::vec::Vec;

    /// Signs an unsigned, valid snapshot: sets the `SIGNED` header flag, recomputes the
    /// checksum and appends the trailer, whose signature `sign` computes over the message it
    /// is given (every byte before the signature). The crypto is the caller's (the compiler
    /// uses Ed25519 from `ed25519-compact`), so this crate's writer needs no dependency.
    ///
    /// # Errors
    /// Any [`LoadError`] from [`Snapshot::parse`] on `unsigned`; [`LoadError::BadHeader`] if
    /// it is already signed.
    pub fn sign_snapshot(
        unsigned: &[u8],
        sign: &mut dyn FnMut(&[u8]) -> [u8; SIGNATURE_SIZE],
    ) -> Result<Vec<u8>, LoadError> {
        let snap = Snapshot::parse(unsigned)?;
        if snap.flags & flags::SIGNED != 0 {
            return Err(LoadError::BadHeader);
        }
        let mut out = Vec::with_capacity(unsigned.len() + TRAILER_SIZE);
        out.extend_from_slice(unsigned);
        out[12..16].copy_from_slice(&(snap.flags | flags::SIGNED).to_le_bytes());
        let sum = file_checksum(&out).ok_or(LoadError::Truncated)?;
        out[CHECKSUM_RANGE].copy_from_slice(&sum.to_le_bytes());
        out.extend_from_slice(&TRAILER_MAGIC);
        out.extend_from_slice(&ALG_ED25519.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        let signature = sign(&out);
        out.extend_from_slice(&signature);
        Ok(out)
    }
}

/// Checks that `public_key` is a usable Ed25519 public key (a canonical curve point of large
/// order), so a bad key is reported when it is configured rather than at the first load.
///
/// # Errors
/// [`LoadError::BadPublicKey`].
#[cfg(feature = "sign")]
pub fn check_public_key(public_key: &[u8; PUBLIC_KEY_SIZE]) -> Result<(), LoadError> {
    ed25519_compact::PublicKey::new(*public_key)
        .validate()
        .map_err(|_| LoadError::BadPublicKey)
}

/// Verifies the Ed25519 signature of the snapshot `file` under `public_key`, on the raw bytes
/// (nothing is parsed beyond the header fields [`signature_parts`] reads). Call it before
/// parsing or mapping anything; [`crate::loader::LoadedModule::load_signed`] does.
///
/// # Errors
/// [`LoadError::Unsigned`] if `file` has no signature; [`LoadError::BadSignature`] if it does
/// not verify (any changed byte, or another key); [`LoadError::BadPublicKey`] for an invalid
/// key; the errors of [`signature_parts`] for a malformed header or trailer.
#[cfg(feature = "sign")]
pub fn verify(file: &[u8], public_key: &[u8; PUBLIC_KEY_SIZE]) -> Result<(), LoadError> {
    use ed25519_compact::{Error, PublicKey, Signature};
    let parts = signature_parts(file)?.ok_or(LoadError::Unsigned)?;
    PublicKey::new(*public_key)
        .verify(parts.message, &Signature::new(*parts.signature))
        .map_err(|e| match e {
            Error::InvalidPublicKey | Error::WeakPublicKey => LoadError::BadPublicKey,
            _ => LoadError::BadSignature,
        })
}

#[cfg(test)]
mod tests {
    #[allow(unused_imports)] // unused when neither `sign` nor `write` is on
    use super::*;

    /// Parses a hex string (test vectors).
    #[cfg(feature = "sign")]
    fn hex<const N: usize>(s: &str) -> [u8; N] {
        assert_eq!(s.len(), 2 * N);
        let mut out = [0u8; N];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    /// RFC 8032 section 7.1, tests 1-3: (secret seed, public key, message, signature).
    #[cfg(feature = "sign")]
    const RFC8032: [(&str, &str, &[u8], &str); 3] = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            b"",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
             5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            &[0x72],
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
             085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            &[0xaf, 0x82],
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac\
             18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];

    /// The crate this module wires in computes RFC 8032's public keys and signatures, and
    /// verifies them (and rejects them after a one-bit change of message, signature or key).
    #[cfg(feature = "sign")]
    #[test]
    fn rfc8032_vectors() {
        use ed25519_compact::{KeyPair, PublicKey, Seed, Signature};
        for (seed, pk, msg, sig) in RFC8032 {
            let (seed, pk, sig) = (hex::<32>(seed), hex::<32>(pk), hex::<64>(sig));
            let kp = KeyPair::from_seed(Seed::new(seed));
            assert_eq!(*kp.pk, pk);
            assert_eq!(*kp.sk.sign(msg, None), sig);
            let key = PublicKey::new(pk);
            assert!(key.verify(msg, &Signature::new(sig)).is_ok());
            let mut bad = sig;
            bad[5] ^= 4;
            assert!(key.verify(msg, &Signature::new(bad)).is_err());
            let mut longer = msg.to_vec();
            longer.push(0);
            assert!(key.verify(&longer, &Signature::new(sig)).is_err());
            let mut other = pk;
            other[0] ^= 1;
            assert!(
                PublicKey::new(other)
                    .verify(msg, &Signature::new(sig))
                    .is_err()
            );
            assert_eq!(check_public_key(&pk), Ok(()));
        }
    }

    #[cfg(feature = "write")]
    mod with_writer {
        use super::super::*;
        use crate::abi::TrapCode;
        use crate::format::{Isa, MemoryMode, Snapshot, SnapshotBuilder, TrapRecord};
        use alloc::vec::Vec;

        fn unsigned() -> Vec<u8> {
            let mut b = SnapshotBuilder::new(Isa::X86_64, MemoryMode::Checked);
            b.meta(b"meta-bytes".to_vec())
                .object(b"\x7fELF-not-really".to_vec());
            b.trap_record(&TrapRecord {
                func_index: 1,
                offset: 2,
                code: TrapCode::Unreachable,
            });
            b.finish()
        }

        /// A stand-in signature (the message's length and first/last bytes): enough to test
        /// the layout without crypto.
        fn fake_sign(m: &[u8]) -> [u8; SIGNATURE_SIZE] {
            let mut s = [0xA5u8; SIGNATURE_SIZE];
            s[..8].copy_from_slice(&(m.len() as u64).to_le_bytes());
            s[8] = m[0];
            s[9] = m[m.len() - 1];
            s
        }

        #[test]
        fn layout_and_split() {
            let u = unsigned();
            assert_eq!(signature_parts(&u), Ok(None));
            assert_eq!(container(&u), Ok(&u[..]));
            let s = sign_snapshot(&u, &mut fake_sign).unwrap();
            assert_eq!(s.len(), u.len() + TRAILER_SIZE);
            let p = signature_parts(&s).unwrap().unwrap();
            assert_eq!(p.container.len(), u.len());
            assert_eq!(p.message.len(), s.len() - SIGNATURE_SIZE);
            assert_eq!(*p.signature, fake_sign(p.message));
            assert_eq!(&s[u.len()..u.len() + 8], b"SIGN\x01\x00\x00\x00");
            // The container differs from the unsigned file only in flags and checksum.
            let diff: Vec<usize> = (0..u.len()).filter(|&i| u[i] != s[i]).collect();
            assert!(
                diff.iter()
                    .all(|&i| (12..16).contains(&i) || (24..32).contains(&i))
            );
            // A loader without a key parses a signed snapshot as usual.
            let snap = Snapshot::parse(&s).unwrap();
            assert_eq!(snap.flags & flags::SIGNED, flags::SIGNED);
            assert_eq!(snap.meta_bytes(), b"meta-bytes");
            assert_eq!(snap.trap_record_count(), 1);
            // Signing twice is refused.
            assert_eq!(
                sign_snapshot(&s, &mut fake_sign).unwrap_err(),
                LoadError::BadHeader
            );
        }

        #[test]
        fn malformed_trailers_rejected() {
            let s = sign_snapshot(&unsigned(), &mut fake_sign).unwrap();
            let n = s.len() - TRAILER_SIZE;
            // Trailer stripped (flag still set), or cut anywhere: truncated.
            for cut in n..s.len() {
                assert_eq!(
                    signature_parts(&s[..cut]),
                    Err(LoadError::Truncated),
                    "{cut}"
                );
                assert_eq!(
                    Snapshot::parse(&s[..cut]).unwrap_err(),
                    LoadError::Truncated
                );
            }
            // Extra bytes after the trailer.
            let mut g = s.clone();
            g.push(0);
            assert_eq!(signature_parts(&g), Err(LoadError::BadHeader));
            // Wrong magic, algorithm, reserved bytes.
            for at in [n, n + 4, n + 5, n + 6, n + 7] {
                let mut g = s.clone();
                g[at] ^= 1;
                assert_eq!(signature_parts(&g), Err(LoadError::BadHeader), "{at}");
                assert!(Snapshot::parse(&g).is_err());
            }
            // The flag cleared: then the trailer is trailing garbage (length mismatch).
            let mut g = s.clone();
            g[12] &= !(flags::SIGNED as u8);
            assert_eq!(signature_parts(&g), Ok(None));
            assert!(Snapshot::parse(&g).is_err());
            // A declared length so large that adding the trailer overflows; one just below.
            let mut g = s.clone();
            g[16..24].copy_from_slice(&(u64::MAX - 10).to_le_bytes());
            assert_eq!(signature_parts(&g), Err(LoadError::BadHeader));
            g[16..24].copy_from_slice(&(u64::MAX - 100).to_le_bytes());
            assert_eq!(signature_parts(&g), Err(LoadError::Truncated));
            // A declared length shorter than a header.
            let mut g = s[..HEADER_SIZE + TRAILER_SIZE].to_vec();
            g[16..24].copy_from_slice(&8u64.to_le_bytes());
            g.truncate(8 + TRAILER_SIZE);
            assert_eq!(signature_parts(&g), Err(LoadError::BadHeader));
            // Not a snapshot at all.
            assert_eq!(signature_parts(b"SN"), Err(LoadError::BadMagic));
            assert_eq!(signature_parts(b"SNAP\0\0"), Err(LoadError::Truncated));
        }

        /// The real thing: Ed25519 over a snapshot, verified on the raw bytes.
        #[cfg(feature = "sign")]
        #[test]
        fn verify_signed_snapshots() {
            use ed25519_compact::{KeyPair, Seed};
            let kp = KeyPair::from_seed(Seed::new([7; 32]));
            let other = KeyPair::from_seed(Seed::new([8; 32]));
            let u = unsigned();
            let s = sign_snapshot(&u, &mut |m| *kp.sk.sign(m, None)).unwrap();
            assert_eq!(verify(&s, &kp.pk), Ok(()));
            assert_eq!(verify(&s, &other.pk), Err(LoadError::BadSignature));
            assert_eq!(verify(&u, &kp.pk), Err(LoadError::Unsigned));
            // Every single-bit change anywhere in the file is refused (by the signature, or
            // earlier by the trailer/header checks).
            for i in 0..s.len() {
                let mut g = s.clone();
                g[i] ^= 0x10;
                assert!(verify(&g, &kp.pk).is_err(), "flip at {i} verified");
            }
            // Changes the checksum cannot see (re-sealed container) are still refused.
            let mut g = s.clone();
            let meta_at =
                Snapshot::parse(&s).unwrap().meta_bytes().as_ptr() as usize - s.as_ptr() as usize;
            g[meta_at] ^= 1;
            let n = g.len() - TRAILER_SIZE;
            let sum = crate::format::file_checksum(&g[..n]).unwrap();
            g[24..32].copy_from_slice(&sum.to_le_bytes());
            assert!(Snapshot::parse(&g).is_ok());
            assert_eq!(verify(&g, &kp.pk), Err(LoadError::BadSignature));
            // A key that is not a curve point is reported as such.
            let mut identity = [0u8; 32];
            identity[0] = 1; // the neutral point (y = 1): small order, refused
            assert_eq!(check_public_key(&identity), Err(LoadError::BadPublicKey));
            assert_eq!(verify(&s, &identity), Err(LoadError::BadPublicKey));
        }
    }
}
