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
    /// The snapshot's code uses an x86-64 CPU feature the host lacks: the bit position of the
    /// first missing one in the header flags (`format::cpu`; the message names it).
    MissingCpuFeature(u8),
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
            LoadError::MissingCpuFeature(bit) => crate::format::cpu::missing_message(bit),
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
