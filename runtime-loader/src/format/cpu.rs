/// SSE4.1 (the historical flag bit: `roundss`/`roundsd`, `pshufb`-free lowerings).
pub const SSE41: u32 = super::flags::SSE41;
/// SSE3.
pub const SSE3: u32 = 1 << 8;
/// SSSE3 (`pshufb`).
pub const SSSE3: u32 = 1 << 9;
/// SSE4.2.
pub const SSE42: u32 = 1 << 10;
/// POPCNT.
pub const POPCNT: u32 = 1 << 11;
/// CMPXCHG16B.
pub const CMPXCHG16B: u32 = 1 << 12;
/// AVX (with OS support for the YMM state).
pub const AVX: u32 = 1 << 13;
/// AVX2.
pub const AVX2: u32 = 1 << 14;
/// FMA3.
pub const FMA: u32 = 1 << 15;
/// BMI1.
pub const BMI1: u32 = 1 << 16;
/// BMI2.
pub const BMI2: u32 = 1 << 17;
/// LZCNT.
pub const LZCNT: u32 = 1 << 18;
/// AVX-512 F (with OS support for the ZMM state).
pub const AVX512F: u32 = 1 << 19;
/// AVX-512 VL.
pub const AVX512VL: u32 = 1 << 20;
/// AVX-512 DQ.
pub const AVX512DQ: u32 = 1 << 21;
/// AVX-512 BITALG.
pub const AVX512BITALG: u32 = 1 << 22;
/// AVX-512 VBMI.
pub const AVX512VBMI: u32 = 1 << 23;
/// AVX-512 VNNI.
pub const AVX512VNNI: u32 = 1 << 24;
/// AVX-VNNI.
pub const AVXVNNI: u32 = 1 << 25;
/// Every feature bit.
pub const ALL: u32 = SSE41 | (((1 << 26) - 1) & !((1 << 8) - 1));

/// Each feature: its bit and the Cranelift x86-64 setting that enables it.
pub const CRANELIFT_FLAGS: [(u32, &str); 19] = [
    (SSE3, "has_sse3"),
    (SSSE3, "has_ssse3"),
    (SSE41, "has_sse41"),
    (SSE42, "has_sse42"),
    (POPCNT, "has_popcnt"),
    (CMPXCHG16B, "has_cmpxchg16b"),
    (AVX, "has_avx"),
    (AVX2, "has_avx2"),
    (FMA, "has_fma"),
    (BMI1, "has_bmi1"),
    (BMI2, "has_bmi2"),
    (LZCNT, "has_lzcnt"),
    (AVX512F, "has_avx512f"),
    (AVX512VL, "has_avx512vl"),
    (AVX512DQ, "has_avx512dq"),
    (AVX512BITALG, "has_avx512bitalg"),
    (AVX512VBMI, "has_avx512vbmi"),
    (AVX512VNNI, "has_avx512vnni"),
    (AVXVNNI, "has_avx_vnni"),
];

/// The error for missing feature bit position `bit` (`BadHeader` for a position without
/// a feature, which the header check has already refused).
pub fn missing(bit: u32) -> LoadError {
    MISSING
        .get(bit as usize)
        .copied()
        .unwrap_or(LoadError::BadHeader)
}

use crate::LoadError;
const MISSING: [LoadError; 26] = [
    LoadError::BadHeader,
    LoadError::MissingSse41,
    LoadError::BadHeader,
    LoadError::BadHeader,
    LoadError::BadHeader,
    LoadError::BadHeader,
    LoadError::BadHeader,
    LoadError::BadHeader,
    LoadError::MissingSse3,
    LoadError::MissingSsse3,
    LoadError::MissingSse42,
    LoadError::MissingPopcnt,
    LoadError::MissingCmpxchg16b,
    LoadError::MissingAvx,
    LoadError::MissingAvx2,
    LoadError::MissingFma,
    LoadError::MissingBmi1,
    LoadError::MissingBmi2,
    LoadError::MissingLzcnt,
    LoadError::MissingAvx512f,
    LoadError::MissingAvx512vl,
    LoadError::MissingAvx512dq,
    LoadError::MissingAvx512bitalg,
    LoadError::MissingAvx512vbmi,
    LoadError::MissingAvx512vnni,
    LoadError::MissingAvxVnni,
];
