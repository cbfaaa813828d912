//! Errors as operators read them. Every error type of the crate keeps its cause as its
//! `source()`, never as text, so the full story is one walk down the chain:
//! [`Chain`] shows an error and every cause under it on one line (`a: b: c`), for the
//! logs and for the one place each edge turns an error into an answer.

use std::error::Error;
use std::fmt;

/// Any error, boxed: a cause kept whole whatever its type, so that a core error names no
/// vendor type (Parquet, Arrow, an Azure SDK) and still carries it.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// An error and its causes, each after a `: `.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// [`Chain`] as a string.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    Chain(error).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("the lake could not be read")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_chain_shows_every_cause_once() {
        let error = Outer(std::io::Error::other("disk gone"));
        assert_eq!(chain(&error), "the lake could not be read: disk gone");
    }
}
