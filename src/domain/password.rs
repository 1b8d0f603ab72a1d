//! Password rules and argon2id hashing.

use argon2::password_hash::{self, Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};

pub const MIN_LENGTH: usize = 8;
/// Long enough for any passphrase, short enough that hashing stays cheap.
pub const MAX_LENGTH: usize = 256;

/// Why a new password is not accepted, worded for the sign-up form.
pub fn check_new(password: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        Err("Use at least 8 characters.")
    } else if length > MAX_LENGTH {
        Err("Use at most 256 characters.")
    } else {
        Ok(())
    }
}

/// Working memory for Argon2 (19 MiB with the default parameters), kept and
/// reused by whoever runs many hashes: allocating it afresh for each hash on
/// whichever thread runs it leaves a freed copy in each allocator arena.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl std::fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashMemory").field("blocks", &self.0.len()).finish()
    }
}

impl HashMemory {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let needed = params.block_count();
        if self.0.len() < needed {
            self.0.resize(needed, Block::default());
        }
        &mut self.0[..needed]
    }
}

/// An argon2id PHC string for `password`, with a fresh salt.
pub fn hash(password: &str) -> Result<String, password_hash::Error> {
    hash_in(password, &mut HashMemory::default())
}

/// [`hash`], computed in `memory`.
pub fn hash_in(password: &str, memory: &mut HashMemory) -> Result<String, password_hash::Error> {
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buffer)?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()).hash_password_into_with_memory(
        password.as_bytes(),
        salt_bytes,
        &mut output,
        memory.blocks(&params),
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output)?),
    };
    Ok(phc.to_string())
}

/// True when `password` matches the stored PHC string; a malformed hash never matches.
pub fn verify(password: &str, stored_hash: &str) -> bool {
    verify_in(password, stored_hash, &mut HashMemory::default())
}

/// [`verify`], computed in `memory`.
pub fn verify_in(password: &str, stored_hash: &str, memory: &mut HashMemory) -> bool {
    let Ok(stored) = PasswordHash::new(stored_hash) else { return false };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) =
        (Algorithm::try_from(stored.algorithm), Params::try_from(&stored), stored.salt, stored.hash)
    else {
        return false;
    };
    let Ok(version) = stored.version.map_or(Ok(Version::V0x13), Version::try_from) else { return false };
    let mut salt_buffer = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buffer) else { return false };
    let mut output = vec![0u8; expected.len()];
    let blocks = memory.blocks(&params);
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt_bytes,
        &mut output,
        blocks,
    )
    .is_ok()
        // Output compares in constant time.
        && Output::new(&output).is_ok_and(|computed| computed == expected)
}

/// A hash of a random password, verified against when the account does not
/// exist so that "no such user" takes as long as "wrong password".
pub fn decoy_hash(memory: &mut HashMemory) -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_in(&uuid::Uuid::new_v4().to_string(), memory).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify_only_the_right_password() {
        let stored = hash("correct horse battery").expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterz", &stored));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn reused_memory_and_hashes_made_by_the_argon2_defaults_verify_alike() {
        use argon2::password_hash::PasswordHasher;
        let mut memory = HashMemory::default();
        let ours = hash_in("correct horse", &mut memory).expect("hash");
        let salt = SaltString::generate(&mut OsRng);
        let library = Argon2::default().hash_password(b"correct horse", &salt).expect("hash").to_string();
        for stored in [&ours, &library] {
            assert!(verify_in("correct horse", stored, &mut memory), "{stored}");
            assert!(!verify_in("correct horsf", stored, &mut memory), "{stored}");
        }
        assert_eq!(ours.split('$').nth(3), library.split('$').nth(3), "same parameters: {ours} / {library}");
        let decoy = decoy_hash(&mut memory);
        assert!(!verify_in("correct horse", decoy, &mut memory));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new("short").is_err());
        assert!(check_new("long enough").is_ok());
    }
}
