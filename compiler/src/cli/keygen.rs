//! `bareflow keygen`: make an Ed25519 key pair for signed snapshots (`compile --sign`,
//! `bareflow-load --pubkey`, `bf_set_public_key`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use bareflow::internals::signing::SigningKey;
use clap::Args;

/// Make a key pair for signing snapshots: PREFIX.key (secret) and PREFIX.pub (public).
///
/// Neither file is overwritten if it exists. The public key is also printed in hex.
#[derive(Args, Debug)]
pub struct KeygenCommand {
    /// Path prefix of the two key files.
    #[arg(long, value_name = "PREFIX")]
    out: PathBuf,
}

impl KeygenCommand {
    /// Runs the command.
    pub fn execute(self) -> Result<ExitCode> {
        let key = SigningKey::generate().context("generating a key")?;
        let (secret, public) = key
            .write_files(&self.out)
            .context("writing the key files")?;
        eprintln!(
            "wrote {} (secret: keep it private) and {}",
            secret.display(),
            public.display()
        );
        print!("{}", key.public_file_text());
        Ok(ExitCode::SUCCESS)
    }
}
