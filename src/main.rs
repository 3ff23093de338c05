//! The chsim command line.
fn main() {}
