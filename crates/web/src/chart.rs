//! The chart model lives in `measures::chart`, so every route (pages, downloads, the API,
//! `mhsip chart`) draws the same numbers.

pub use measures::chart::*;
