//! Loader tests: bad input gives located diagnostics.
