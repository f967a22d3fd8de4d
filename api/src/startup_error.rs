//! What stops the `staffroom` binary before or while it starts: a configuration mistake or
//! an unreachable dependency, reported as one line on stderr with exit code 2.

use std::fmt;

/// A start-up failure; its message is printed as one line.
#[derive(Debug)]
pub struct StartupError(pub String);

impl StartupError {
    /// The message on one line: line breaks (a PostgreSQL error has several) become spaces.
    pub fn one_line(&self) -> String {
        self.0
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl<E: fmt::Display> From<E> for StartupError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_of_several_lines_prints_as_one() {
        let error = StartupError(
            "cannot connect: FATAL:  role \"x\" does not exist\n\n  hint\n".to_owned(),
        );
        assert_eq!(
            error.one_line(),
            "cannot connect: FATAL:  role \"x\" does not exist hint"
        );
    }
}
