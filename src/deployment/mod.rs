//! Keeping a simulator safe to deploy (issue #8 §4): the public demo keys never serve a
//! deployment reachable from other machines ([`demo_keys`]), and `chsim keygen` writes fresh keys
//! for a real one ([`keygen`]).

pub mod demo_keys;
pub mod keygen;
