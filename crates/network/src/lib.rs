//! # network: the statistics of the Patient Safety Network (issue 12)
//!
//! Pure: handed numbers, returns numbers and SVG text; no I/O, never knows the store, the web
//! or who is reading (callers apply disclosure control before anything leaves).
//!
//! - [`effect`]: the measured effect of a change at one site (limits frozen before the change,
//!   the ratio of the new centre to the old with its 95% interval, the first special cause and
//!   whether it held);
//! - [`meta`]: DerSimonian-Laird random-effects pooling of the sites' log ratios;
//! - [`funnel`]: funnel plots with exact Poisson/binomial limits and Spiegelhalter's
//!   overdispersion adjustments as FunnelPlotR implements them;
//! - [`site`]: the effect read from a measure's cached series (`measures::MeasureSeries`) at
//!   an adoption date, and what a disclosure-controlled viewer may see of it;
//! - [`scope`]: the measures beyond inpatient mental health (acute trusts' patients' self-harm
//!   by setting, staff self-harm and suicide from monthly aggregates) from the store's counts;
//! - [`svg`]: the forest plot and the funnel plot as SVG, with text alternatives.
//!
//! The formulas and references are in docs/network.md.

pub mod dist;
pub mod effect;
pub mod funnel;
pub mod meta;
pub mod scope;
pub mod site;
pub mod svg;

pub use effect::{EffectError, Period, Ratio, Scale, Signal, SiteEffect, site_effect};
pub use funnel::{Band, Funnel, FunnelError, Limits, Unit, funnel};
pub use meta::{Heterogeneity, MetaError, Pooled, Study, dersimonian_laird};
