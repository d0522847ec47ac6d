//! The demo region: a fictional region of trusts, sites and wards with years of stays, bed
//! days and events, generated deterministically from a seed and a size (`generate`, pure: it
//! returns the canonical upload files' contents), a Datix-style export of one trust's last
//! month with the column mapping that reads it (`datix`), a FREED eating-disorder service in
//! each trust with two years of referrals (`freed`), and the loading of the files through
//! the same import as real uploads (`load`). Printing is the caller's.

/// The children's ADHD service's attention tests, from simulated sessions (issue 15).
pub mod adhd;
pub mod datix;
pub mod freed;
pub mod generate;
pub mod ligature;
pub mod load;
/// The quality improvement projects a region's teams would have recorded (issue 11).
pub mod qi_projects;
mod rng;

pub use generate::{DemoFiles, Planted, Size, SizeError, generate, generate_region};
pub use load::{LoadError, Loaded, Step, load};
pub use rng::SplitMix;
