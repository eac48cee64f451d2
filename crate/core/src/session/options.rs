//! The analysis options shared by the CLI, the wasm bindings and Node: one type, parsed in one
//! place.
//!
//! On the wire (JSON, JS objects) the keys are camelCase and unknown keys are refused by name
//! (`deny_unknown_fields`), so a typo such as `mpfit` is an error rather than a silently ignored
//! option. Every enum named on the wire also parses from its string with [`std::str::FromStr`],
//! which is what the CLI flags use.
//!
//! | key | type | meaning (defaults = WeightWatcher 0.7.7's) |
//! |---|---|---|
//! | `farms` | bool | FARMS α per layer (default windows, see `spectrum::farms`) |
//! | `mpFit` | bool | Marchenko–Pastur fit |
//! | `randomize`, `seed` | bool, u64 | randomized-ESD comparison, seeded |
//! | `fixFingers` | `"clip_xmax"` \| `"xmin_peak"` | WW's `fix_fingers` |
//! | `fit` | `"PL"` \| `"TPL"` \| `"E_TPL"` | tail model (`E_TPL` implies `xmin_peak`) |
//! | `layers` | [string] | WW's `layers=[…]`: name parts or layer ids |
//! | `xmax` | integer | clip the `|k|` largest eigenvalues before fitting |
//! | `fast` | bool | f32 SIMD Gram for f32 tensors instead of the f64 one |
//! | `minEvals`, `maxEvals`, `maxN` | integer | WW's size gates |
//! | `parallel` | bool | use the thread pool (default true) |

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::spectrum::analyze::{AnalyzeParams, FitKind, FixFingers};
use crate::{Error, Result};

/// WeightWatcher's `fix_fingers` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum FixFingersOption {
    /// `clip_xmax`: drop up to 10 "fingers" above the bulk before the fit.
    ClipXmax,
    /// `xmin_peak`: x_min searched near the ESD's histogram peak.
    XminPeak,
}

impl FromStr for FixFingersOption {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "clip_xmax" => Ok(FixFingersOption::ClipXmax),
            "xmin_peak" => Ok(FixFingersOption::XminPeak),
            other => Err(Error::InvalidParameter {
                name: "fixFingers",
                reason: format!("unknown `{other}` (clip_xmax | xmin_peak)"),
            }),
        }
    }
}

impl TryFrom<String> for FixFingersOption {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<FixFingersOption> for String {
    fn from(v: FixFingersOption) -> String {
        match v {
            FixFingersOption::ClipXmax => "clip_xmax".into(),
            FixFingersOption::XminPeak => "xmin_peak".into(),
        }
    }
}

/// The tail model (`fit` in WW), case-insensitive on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum FitOption {
    /// Power law (`PL`, the default).
    PowerLaw,
    /// Truncated power law (`TPL`).
    TruncatedPowerLaw,
    /// `E_TPL`: TPL with `xmin_peak`.
    ExtendedTruncatedPowerLaw,
}

impl FromStr for FitOption {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match FitKind::from_ww_name(s)? {
            (FitKind::PowerLaw, _) => FitOption::PowerLaw,
            (FitKind::TruncatedPowerLaw, false) => FitOption::TruncatedPowerLaw,
            (FitKind::TruncatedPowerLaw, true) => FitOption::ExtendedTruncatedPowerLaw,
        })
    }
}

impl TryFrom<String> for FitOption {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<FitOption> for String {
    fn from(v: FitOption) -> String {
        match v {
            FitOption::PowerLaw => "PL".into(),
            FitOption::TruncatedPowerLaw => "TPL".into(),
            FitOption::ExtendedTruncatedPowerLaw => "E_TPL".into(),
        }
    }
}

/// Options of an analysis (see the module doc for the wire names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct AnalyzeOptions {
    pub farms: bool,
    pub mp_fit: bool,
    pub randomize: bool,
    pub seed: u64,
    pub fix_fingers: Option<FixFingersOption>,
    pub fit: Option<FitOption>,
    pub layers: Option<Vec<String>>,
    pub xmax: Option<i64>,
    pub fast: bool,
    pub min_evals: Option<usize>,
    pub max_evals: Option<usize>,
    pub max_n: Option<usize>,
    pub parallel: Option<bool>,
}

impl AnalyzeOptions {
    /// Parses a JSON object (`null` or an empty string = defaults). Unknown keys and wrong
    /// types are an [`Error::InvalidParameter`] naming them.
    pub fn from_json(text: &str) -> Result<Self> {
        let t = text.trim();
        if t.is_empty() || t == "null" || t == "undefined" {
            return Ok(Self::default());
        }
        serde_json::from_str(t).map_err(|e| Error::InvalidParameter {
            name: "options",
            reason: e.to_string(),
        })
    }

    /// The layer filter (WW's `layers=[…]`; empty = every layer).
    pub fn layer_filter(&self) -> &[String] {
        self.layers.as_deref().unwrap_or(&[])
    }

    /// The core parameters these options stand for.
    pub fn to_params(&self) -> AnalyzeParams {
        let mut p = AnalyzeParams {
            farms: self.farms.then(Default::default),
            mp_fit: self.mp_fit,
            randomize: self.randomize.then_some(self.seed),
            exact: !self.fast,
            ..AnalyzeParams::default()
        };
        p.fix_fingers = match self.fix_fingers {
            None => FixFingers::None,
            Some(FixFingersOption::ClipXmax) => FixFingers::ClipXmax {
                max_fingers: 10,
                finger_thresh: 1.0,
            },
            Some(FixFingersOption::XminPeak) => FixFingers::XminPeak { xmin_max: None },
        };
        match self.fit {
            None | Some(FitOption::PowerLaw) => {}
            Some(FitOption::TruncatedPowerLaw) => p.fit = FitKind::TruncatedPowerLaw,
            Some(FitOption::ExtendedTruncatedPowerLaw) => {
                p.fit = FitKind::TruncatedPowerLaw;
                p.fix_fingers = FixFingers::XminPeak { xmin_max: None };
            }
        }
        p.xmax_clip = self.xmax.map(|k| k.unsigned_abs() as usize);
        if let Some(v) = self.min_evals {
            p.walk.min_evals = v;
        }
        if let Some(v) = self.max_evals {
            p.walk.max_evals = v;
        }
        if let Some(v) = self.max_n {
            p.walk.max_n = v;
        }
        p.gram.parallel = self.parallel.unwrap_or(true);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_values_are_named() {
        let e = AnalyzeOptions::from_json(r#"{"mpfit": true}"#).unwrap_err();
        assert!(e.to_string().contains("mpfit"), "{e}");
        let e = AnalyzeOptions::from_json(r#"{"fit": "XL"}"#).unwrap_err();
        assert!(e.to_string().to_lowercase().contains("xl"), "{e}");
        let e = AnalyzeOptions::from_json(r#"{"fixFingers": "peak"}"#).unwrap_err();
        assert!(e.to_string().contains("peak"), "{e}");
    }

    #[test]
    fn wire_names_map_to_params() {
        let o = AnalyzeOptions::from_json(
            r#"{"farms": true, "mpFit": true, "fit": "e_tpl", "maxN": 7, "layers": ["query"], "fast": true}"#,
        )
        .unwrap();
        let p = o.to_params();
        assert!(p.farms.is_some() && p.mp_fit && !p.exact);
        assert_eq!(p.fit, FitKind::TruncatedPowerLaw);
        assert_eq!(p.fix_fingers, FixFingers::XminPeak { xmin_max: None });
        assert_eq!(p.walk.max_n, 7);
        assert_eq!(o.layer_filter(), ["query".to_string()]);
        assert_eq!(
            AnalyzeOptions::from_json("null").unwrap(),
            AnalyzeOptions::default()
        );
        // Round trip through the wire form.
        let back = AnalyzeOptions::from_json(&serde_json::to_string(&o).unwrap()).unwrap();
        assert_eq!(back, o);
    }
}
