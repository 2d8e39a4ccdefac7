//! Exit codes (see the README: Exit codes) and how several outcomes combine into one.

/// The process exit codes the README lists under Exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Success = 0,
    /// Bad config or roster, an API that could not be read; nothing changed.
    Error = 1,
    /// `plan`, or `run` in report mode: drift found.
    Drift = 2,
    /// A safety gate refused the apply; nothing changed.
    Refused = 3,
    /// Some planned revocations failed or were refused for their target.
    Partial = 4,
    /// The run succeeded but an alert could not be delivered.
    AlertFailed = 5,
}

impl Exit {
    /// When several apply, the first in the order 1, 3, 4, 5, 2, 0 wins.
    fn rank(self) -> u8 {
        match self {
            Exit::Error => 0,
            Exit::Refused => 1,
            Exit::Partial => 2,
            Exit::AlertFailed => 3,
            Exit::Drift => 4,
            Exit::Success => 5,
        }
    }

    /// The outcome that matters most of the two.
    pub fn worst(self, other: Exit) -> Exit {
        if other.rank() < self.rank() {
            other
        } else {
            self
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

#[cfg(test)]
mod tests {
    use super::Exit::*;

    #[test]
    fn the_spec_order_decides() {
        assert_eq!(Drift.worst(AlertFailed), AlertFailed);
        assert_eq!(AlertFailed.worst(Partial), Partial);
        assert_eq!(Partial.worst(Refused), Refused);
        assert_eq!(Refused.worst(Error), Error);
        assert_eq!(Success.worst(Drift), Drift);
        assert_eq!(Error.worst(Success), Error);
    }
}
