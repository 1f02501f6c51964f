//! SQL over converted data (DataFusion).

pub mod session;

pub use session::Dataset;
