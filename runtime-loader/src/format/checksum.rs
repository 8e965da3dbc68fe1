//! The snapshot checksum (CRC-32C).

use super::*;

/// CRC-32C (Castagnoli, reflected polynomial `0x82F63B78`) of one nibble, for the 16-entry
/// table [`crc32c_update`] uses (64 bytes of table instead of 1 KiB: the loader is small).
const CRC32C_NIBBLE: [u32; 16] = {
    let mut t = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 4 {
            c = if c & 1 != 0 {
                c >> 1 ^ 0x82F6_3B78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Continues a CRC-32C over `bytes` (`crc` is the running register, pre-inverted).
pub(super) fn crc32c_update(mut crc: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        crc ^= u32::from(b);
        crc = crc >> 4 ^ CRC32C_NIBBLE[(crc & 15) as usize];
        crc = crc >> 4 ^ CRC32C_NIBBLE[(crc & 15) as usize];
    }
    crc
}

/// CRC-32C of `bytes` (as iSCSI, ext4 and the `crc32c` crate compute it).
pub fn crc32c(bytes: &[u8]) -> u32 {
    !crc32c_update(!0, bytes)
}

/// The snapshot checksum: CRC-32C of the whole file with the 8-byte checksum field read as
/// zeros, zero-extended to the field's 64 bits. It catches accidental corruption (every
/// burst of up to 32 bits, any odd number of flipped bits, …); it is **not** a security
/// measure: anyone can recompute it, which is why the loaders check every field they can and
/// signatures (`crate::sign`) exist. `None` if `file` is shorter than the header.
pub fn file_checksum(file: &[u8]) -> Option<u64> {
    let head = file.get(..CHECKSUM_RANGE.start)?;
    let tail = file.get(CHECKSUM_RANGE.end..)?;
    let c = crc32c_update(!0, head);
    let c = crc32c_update(c, &[0u8; 8]);
    Some(u64::from(!crc32c_update(c, tail)))
}
