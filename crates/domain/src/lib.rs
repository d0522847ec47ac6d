//! # domain: what MHSIP knows about mental health safety
//!
//! Types that can only hold valid values (NHS numbers, ODS and ward codes, national codes,
//! dates and reporting periods, validated records), the programme's measure definitions,
//! rate statistics with confidence intervals, and disclosure control. Pure: no I/O.

pub mod access;
pub mod codes;
pub mod completeness;
pub mod csv;
pub mod dates;
pub mod disclosure;
pub mod ids;
pub mod inequality;
pub mod measures;
pub mod records;
pub mod stats;

pub use ids::{NhsNumber, OdsCode, OrgLevel, WardCode};
pub use measures::{Measure, Objective, Stratifier};
