//! The loader's error type: one small `Copy` enum for every way a snapshot, its ELF object
//! or the code memory can be rejected. No allocation on the error path.

use core::fmt;

/// Why a snapshot (or the object inside it) was rejected. Every check happens before any
/// byte of the input is trusted, so none of these ever follows running loaded code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadError {
    /// The file does not start with the `SNAP` magic.
    BadMagic,
    /// The container version is not one this loader reads.
    UnsupportedVersion,
    /// The file (or a structure inside it) ends before a field it declares.
    Truncated,
    /// The checksum over the file does not match.
    BadChecksum,
    /// A header field that must have a fixed value (length, reserved bits) is wrong.
    BadHeader,
    /// The snapshot targets another instruction set.
    UnsupportedIsa,
    /// The snapshot's code uses an x86-64 CPU feature the host lacks (`format::cpu`): one
    /// variant per feature, so the message names it and the enum stays one byte.
    /// The code needs sse4.1; the host lacks it.
    MissingSse41,
    /// The code needs sse3; the host lacks it.
    MissingSse3,
    /// The code needs ssse3; the host lacks it.
    MissingSsse3,
    /// The code needs sse4.2; the host lacks it.
    MissingSse42,
    /// The code needs popcnt; the host lacks it.
    MissingPopcnt,
    /// The code needs cmpxchg16b; the host lacks it.
    MissingCmpxchg16b,
    /// The code needs avx; the host lacks it.
    MissingAvx,
    /// The code needs avx2; the host lacks it.
    MissingAvx2,
    /// The code needs fma; the host lacks it.
    MissingFma,
    /// The code needs bmi1; the host lacks it.
    MissingBmi1,
    /// The code needs bmi2; the host lacks it.
    MissingBmi2,
    /// The code needs lzcnt; the host lacks it.
    MissingLzcnt,
    /// The code needs avx512f; the host lacks it.
    MissingAvx512f,
    /// The code needs avx512vl; the host lacks it.
    MissingAvx512vl,
    /// The code needs avx512dq; the host lacks it.
    MissingAvx512dq,
    /// The code needs avx512bitalg; the host lacks it.
    MissingAvx512bitalg,
    /// The code needs avx512vbmi; the host lacks it.
    MissingAvx512vbmi,
    /// The code needs avx512vnni; the host lacks it.
    MissingAvx512vnni,
    /// The code needs avx-vnni; the host lacks it.
    MissingAvxVnni,

    /// The snapshot was compiled for a memory mode this loader cannot provide.
    UnsupportedMemoryMode,
    /// An offset, length or count points outside the file or overflows.
    BadOffset,
    /// A section kind is unknown, duplicated, overlapping or misplaced.
    BadSection,
    /// A required section is absent.
    MissingSection,
    /// A function or trap record is malformed.
    BadRecord,
    /// A name is not valid UTF-8.
    BadUtf8,
    /// The module metadata section is malformed.
    BadMeta,
    /// The object is not a well-formed ELF64 little-endian relocatable file.
    BadElf,
    /// The object is well formed but uses a feature the loader does not support
    /// (another machine, `SHT_REL`, common symbols, ...).
    UnsupportedElf,
    /// A symbol index, section index or symbol name is invalid.
    BadSymbol,
    /// A symbol the code needs is neither defined in the object nor resolvable.
    UndefinedSymbol,
    /// A relocation's offset or target is out of bounds.
    BadRelocation,
    /// A relocation kind the loader does not implement.
    UnsupportedRelocation,
    /// A relocated value does not fit its field (e.g. a PC-relative distance over ±2 GiB).
    RelocationOverflow,
    /// Code memory could not be allocated or made executable.
    CodeMemory,
    /// The metadata and the object disagree (missing function or trampoline symbol).
    MissingCode,
    /// The snapshot's memory mode is not the one the embedder asked for.
    MemoryModeMismatch,
    /// A type's arity in the entry table (what the code was compiled for) differs from the
    /// metadata's (e.g. a type record rewritten to `[] -> []`).
    TypeMismatch,
    /// A public key is configured but the snapshot carries no signature.
    Unsigned,
    /// The snapshot's signature does not verify under the configured public key (tampered
    /// bytes, or signed with another key).
    BadSignature,
    /// The configured public key is not a valid Ed25519 key (not a curve point, or weak).
    BadPublicKey,
}

impl LoadError {
    /// A short lower-case description.
    pub fn message(self) -> &'static str {
        match self {
            LoadError::BadMagic => "not a snapshot (bad magic)",
            LoadError::UnsupportedVersion => "unsupported snapshot version",
            LoadError::Truncated => "snapshot truncated",
            LoadError::BadChecksum => "snapshot checksum mismatch",
            LoadError::BadHeader => "malformed snapshot header",
            LoadError::UnsupportedIsa => "snapshot compiled for another instruction set",
            LoadError::MissingSse41 => "cpu lacks sse4.1, which the snapshot code needs",
            LoadError::MissingSse3 => "cpu lacks sse3, which the snapshot code needs",
            LoadError::MissingSsse3 => "cpu lacks ssse3, which the snapshot code needs",
            LoadError::MissingSse42 => "cpu lacks sse4.2, which the snapshot code needs",
            LoadError::MissingPopcnt => "cpu lacks popcnt, which the snapshot code needs",
            LoadError::MissingCmpxchg16b => "cpu lacks cmpxchg16b, which the snapshot code needs",
            LoadError::MissingAvx => "cpu (or os) lacks avx, which the snapshot code needs",
            LoadError::MissingAvx2 => "cpu (or os) lacks avx2, which the snapshot code needs",
            LoadError::MissingFma => "cpu (or os) lacks fma, which the snapshot code needs",
            LoadError::MissingBmi1 => "cpu lacks bmi1, which the snapshot code needs",
            LoadError::MissingBmi2 => "cpu lacks bmi2, which the snapshot code needs",
            LoadError::MissingLzcnt => "cpu lacks lzcnt, which the snapshot code needs",
            LoadError::MissingAvx512f => "cpu (or os) lacks avx512f, which the snapshot code needs",
            LoadError::MissingAvx512vl => {
                "cpu (or os) lacks avx512vl, which the snapshot code needs"
            }
            LoadError::MissingAvx512dq => {
                "cpu (or os) lacks avx512dq, which the snapshot code needs"
            }
            LoadError::MissingAvx512bitalg => {
                "cpu (or os) lacks avx512bitalg, which the snapshot code needs"
            }
            LoadError::MissingAvx512vbmi => {
                "cpu (or os) lacks avx512vbmi, which the snapshot code needs"
            }
            LoadError::MissingAvx512vnni => {
                "cpu (or os) lacks avx512vnni, which the snapshot code needs"
            }
            LoadError::MissingAvxVnni => {
                "cpu (or os) lacks avx-vnni, which the snapshot code needs"
            }
            LoadError::UnsupportedMemoryMode => "snapshot memory mode not supported here",
            LoadError::BadOffset => "offset or length out of bounds",
            LoadError::BadSection => "malformed section table",
            LoadError::MissingSection => "required section missing",
            LoadError::BadRecord => "malformed function or trap record",
            LoadError::BadUtf8 => "name is not valid utf-8",
            LoadError::BadMeta => "malformed module metadata",
            LoadError::BadElf => "malformed elf object",
            LoadError::UnsupportedElf => "unsupported elf object",
            LoadError::BadSymbol => "invalid symbol",
            LoadError::UndefinedSymbol => "undefined symbol",
            LoadError::BadRelocation => "invalid relocation",
            LoadError::UnsupportedRelocation => "unsupported relocation kind",
            LoadError::RelocationOverflow => "relocation value out of range",
            LoadError::CodeMemory => "cannot allocate executable memory",
            LoadError::MissingCode => "function code missing from object",
            LoadError::MemoryModeMismatch => {
                "snapshot memory mode (checked / guard) differs from the requested one"
            }
            LoadError::TypeMismatch => {
                "function type differs from the one the code was compiled for"
            }
            LoadError::Unsigned => "snapshot is not signed (a public key is configured)",
            LoadError::BadSignature => "snapshot signature does not verify",
            LoadError::BadPublicKey => "invalid ed25519 public key",
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for LoadError {}

/// Writes `v` in decimal through `f.write_str`: what the no_std `bareflow-load` and the
/// loader's error messages print numbers with. core's integer `Display` links its padding
/// and sign machinery for every integer type it is used with (~1.5 KB there).
///
/// # Errors
/// Whatever `f.write_str` returns.
pub fn write_decimal(f: &mut dyn fmt::Write, v: u64) -> fmt::Result {
    let (mut d, mut i, mut v) = ([0u8; 20], 20, v);
    loop {
        i -= 1;
        d[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    f.write_str(core::str::from_utf8(&d[i..]).unwrap_or(""))
}

/// `u64` shown in decimal by [`write_decimal`] (for `format_args!` without core's integer
/// `Display`).
#[derive(Clone, Copy, Debug)]
pub struct Decimal(pub u64);

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_decimal(f, self.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn write_decimal_matches_display() {
        for v in [0u64, 7, 10, 99, 1_000_000_007, u64::MAX] {
            let mut s = alloc::string::String::new();
            super::write_decimal(&mut s, v).unwrap();
            assert_eq!(s, alloc::format!("{v}"));
            assert_eq!(
                alloc::format!("{}", super::Decimal(v)),
                alloc::format!("{v}")
            );
        }
    }
}
