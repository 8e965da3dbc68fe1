//! Function and trap records (section kinds 3 and 4).

use super::*;

/// One function's profile record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncRecord<'a> {
    /// Function index in the module (imports count).
    pub func_index: u32,
    /// Optimization level the function was exported with.
    pub tier: CodeTier,
    /// Calls observed while profiling.
    pub calls: u64,
    /// Average time per call in nanoseconds (0 if unknown).
    pub avg_nanos: u64,
    /// Size of the function's machine code in bytes.
    pub code_size: u32,
    /// Function name (from the name section or export), may be empty.
    pub name: &'a str,
}

impl<'a> FuncRecord<'a> {
    pub(super) fn read(c: &mut Cursor<'a>) -> Result<Self, LoadError> {
        let func_index = c.u32()?;
        let tier = CodeTier::from_u8(c.u8()?).ok_or(LoadError::BadRecord)?;
        if c.take(3)? != [0, 0, 0] {
            return Err(LoadError::BadRecord);
        }
        let calls = c.u64()?;
        let avg_nanos = c.u64()?;
        let code_size = c.u32()?;
        let name = c.str()?;
        Ok(FuncRecord {
            func_index,
            tier,
            calls,
            avg_nanos,
            code_size,
            name,
        })
    }
}

/// A trapping instruction inside a function: where it is and which trap it raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapRecord {
    /// Function index of the function containing the instruction.
    pub func_index: u32,
    /// Byte offset of the instruction from the function's start.
    pub offset: u32,
    /// The trap raised.
    pub code: TrapCode,
}

impl TrapRecord {
    pub(super) fn read(c: &mut Cursor<'_>) -> Result<Self, LoadError> {
        let func_index = c.u32()?;
        let offset = c.u32()?;
        let code = TrapCode::from_u32(c.u32()?).ok_or(LoadError::BadRecord)?;
        Ok(TrapRecord {
            func_index,
            offset,
            code,
        })
    }
}
