//! The Python that runs the interop peers (pysaml2, Authlib, jwcrypto): `CHSIM_PYTHON`, else
//! the repository's `.venv` that `make test` creates from `tests/interop/requirements.txt`.

use std::path::Path;

/// The interpreter to run; fails the test naming the fix when there is none.
pub fn python() -> String {
    std::env::var("CHSIM_PYTHON").unwrap_or_else(|_| {
        let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python");
        assert!(
            Path::new(venv).exists(),
            "{venv} is missing: run `make test` (it creates the venv with pysaml2, Authlib and jwcrypto from tests/interop/requirements.txt), or set CHSIM_PYTHON"
        );
        venv.to_string()
    })
}
