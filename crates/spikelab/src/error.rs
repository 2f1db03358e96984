//! The one error type of the library: everything a user can cause (a bad file, a bad config, a
//! network whose shapes do not fit) comes back as an `Error`, never as a panic.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    /// A data or checkpoint file whose content is not what its format promises.
    #[error("{path}: {message} (at byte {offset})")]
    Format { path: PathBuf, offset: u64, message: String },

    /// An invalid configuration value; `key` names the setting.
    #[error("invalid value for `{key}`: {message}")]
    Config { key: String, message: String },

    /// Shapes that do not fit together (building a network, feeding a batch).
    #[error("shape mismatch: {0}")]
    Shape(String),

    /// Training produced a NaN or infinite value.
    #[error("{0}")]
    NonFinite(String),

    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub fn format(path: impl Into<PathBuf>, offset: u64, message: impl Into<String>) -> Self {
        Error::Format { path: path.into(), offset, message: message.into() }
    }

    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config { key: key.into(), message: message.into() }
    }

    /// A configuration error of a part, named from the whole: `g_k` within `layers[1]` becomes
    /// `layers[1].g_k`. Other errors pass unchanged.
    pub fn within(self, key: &str) -> Self {
        match self {
            Error::Config { key: inner, message } => Error::config(format!("{key}.{inner}"), message),
            other => other,
        }
    }
}
