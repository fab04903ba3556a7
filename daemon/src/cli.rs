//! Command line of `tidemarkd`.

use std::ffi::OsString;
use std::process::ExitCode;

/// Run `tidemarkd` with these arguments (the first one is the program name).
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let _ = args.into_iter().count();
    ExitCode::FAILURE
}
