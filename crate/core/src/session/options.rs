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
//!
//! The other option objects of the bindings live here too, so the CLI and wasm read them with
//! one parser: [`VendiOptions`], [`MetricsReportOptions`], [`LoadOptions`] (embeddings),
//! [`TradeoffOptions`], [`TargetOptions`] (compression budgets), [`SpectrumOptions`],
//! [`VectorOptions`] (transforms), and [`CompareParams`] (re-exported). Each is `deny_unknown_fields` (for JSON) and lists its keys
//! through [`option_keys`], which the bindings use to refuse an unknown key of a JS object
//! ([`check_keys`]): serde-wasm-bindgen reads only the fields a struct names.

use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The comparison options (`{k, eps, alpha, farms, layers, maxElements}`) live beside the
/// comparison; re-exported so every option type of the CLI and bindings is reachable here.
pub use crate::compare::CompareParams;
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
        options_from_json(text)
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

/// A wire enum (a string on the wire): `FromStr` (error [`Error::InvalidParameter`] naming the
/// key), `TryFrom<String>` for serde (message `key: unknown `x` (a | b)`), `name()`.
macro_rules! wire_enum {
    ($(#[$m:meta])* $ty:ident, $key:literal, [$($(#[$vm:meta])* $v:ident = $($s:literal)|+),+ $(,)?]) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
        #[serde(try_from = "String")]
        pub enum $ty { $($(#[$vm])* $v),+ }

        impl $ty {
            /// The wire name.
            pub fn name(self) -> &'static str {
                match self { $($ty::$v => wire_enum!(@first $($s)|+)),+ }
            }
        }

        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($($s)|+ => Ok($ty::$v),)+
                    other => Err(Error::InvalidParameter {
                        name: $key,
                        reason: format!(
                            "unknown `{other}` ({})",
                            [$(wire_enum!(@first $($s)|+)),+].join(" | ")
                        ),
                    }),
                }
            }
        }

        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(s: String) -> std::result::Result<Self, String> {
                s.parse().map_err(|e: Error| match e {
                    Error::InvalidParameter { name, reason } => format!("{name}: {reason}"),
                    e => e.to_string(),
                })
            }
        }
    };
    (@first $s:literal $(| $rest:literal)*) => { $s };
}

wire_enum!(
    /// The kernel of a Vendi score.
    KernelOption, "kernel", [Cosine = "cosine", Linear = "linear", Rbf = "rbf"]
);
wire_enum!(
    /// Which transform a spectrum is taken under (see `crate::session::transform`).
    TransformKind, "kind", [Fft = "fft", Dct = "dct", Wht = "wht", Rht = "rht"]
);
wire_enum!(
    /// Order of the Walsh–Hadamard coefficients.
    WhtOrderOption, "order", [Natural = "natural" | "hadamard", Sequency = "sequency" | "walsh"]
);
wire_enum!(
    /// The transform explorer's test signals.
    SignalKind, "signal", [Chirp = "chirp", Square = "square", Noise = "noise", Tones = "tones"]
);
wire_enum!(
    /// What a compression budget counts.
    TargetKind, "kind", [Fraction = "fraction", Params = "params", Bytes = "bytes", Error = "error"]
);
wire_enum!(
    /// Storage precision on the wire (see [`crate::compress::Precision`]).
    PrecisionOption, "precision", [F32 = "f32", F16 = "f16", Int8 = "int8", Int4 = "int4"]
);
wire_enum!(
    /// Rank allocation method (see [`crate::compress::budget::AllocationMethod`]).
    MethodOption, "method", [Uniform = "uniform", Energy = "energy", Greedy = "greedy", Welore = "welore"]
);
wire_enum!(
    /// Objective of a rank allocation (see [`crate::compress::budget::ErrorObjective`]).
    ObjectiveOption, "objective", [Absolute = "absolute", Relative = "relative"]
);

impl From<PrecisionOption> for crate::compress::Precision {
    fn from(p: PrecisionOption) -> Self {
        use crate::compress::Precision as P;
        match p {
            PrecisionOption::F32 => P::F32,
            PrecisionOption::F16 => P::F16,
            PrecisionOption::Int8 => P::Int8,
            PrecisionOption::Int4 => P::Int4,
        }
    }
}

impl From<MethodOption> for crate::compress::budget::AllocationMethod {
    fn from(m: MethodOption) -> Self {
        use crate::compress::budget::AllocationMethod as M;
        match m {
            MethodOption::Uniform => M::Uniform,
            MethodOption::Energy => M::Energy,
            MethodOption::Greedy => M::Greedy,
            MethodOption::Welore => M::WeLore,
        }
    }
}

impl From<ObjectiveOption> for crate::compress::budget::ErrorObjective {
    fn from(o: ObjectiveOption) -> Self {
        use crate::compress::budget::ErrorObjective as O;
        match o {
            ObjectiveOption::Absolute => O::Absolute,
            ObjectiveOption::Relative => O::Relative,
        }
    }
}

/// An RBF bandwidth: a positive number, or `"auto"` (the median pairwise distance).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum BandwidthOption {
    Value(f64),
    Name(String),
}

/// Options of a Vendi score, profile or per-class score (`vendiScore`, `vendiProfile`,
/// `vendiPerClass`): `{kernel = "cosine", q = 1, qs, bandwidth = "auto" (RBF), relThreshold}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct VendiOptions {
    pub kernel: Option<KernelOption>,
    pub q: Option<f64>,
    /// Orders of a profile (default: `crate::metrics::default_q_grid`).
    pub qs: Option<Vec<f64>>,
    pub bandwidth: Option<BandwidthOption>,
    pub rel_threshold: Option<f64>,
}

/// Options of the metrics table (`metricsReport`): `{qs, rbfBandwidth: number | "auto"
/// (absent: no RBF row), rbfExactMaxN = 2000, landmarks = 500, dse = true, dseSigma = 10,
/// dseMaxN = 2000, relThreshold, seed}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct MetricsReportOptions {
    pub qs: Option<Vec<f64>>,
    pub rbf_bandwidth: Option<BandwidthOption>,
    pub rbf_exact_max_n: Option<usize>,
    pub landmarks: Option<usize>,
    pub dse: Option<bool>,
    pub dse_sigma: Option<f64>,
    pub dse_max_n: Option<usize>,
    pub rel_threshold: Option<f64>,
    pub seed: Option<f64>,
}

/// Options of loading an embedding matrix: `{tensor}` (default: the first with ≥ 2 dimensions).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LoadOptions {
    pub tensor: Option<String>,
}

/// Options of the structured trade-off curves of one tensor: `{precision = "f16"}` (of the
/// plain SVD factors).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct TradeoffOptions {
    pub precision: Option<PrecisionOption>,
}

/// A compression budget: `{kind: "fraction" | "params" | "bytes" | "error", value,
/// precision = "f16"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetOptions {
    pub kind: TargetKind,
    pub value: f64,
    #[serde(default)]
    pub precision: Option<PrecisionOption>,
}

/// Options of a test-signal spectrum (`transformSpectrum`): `{signal = "chirp", n = 1024,
/// kind = "fft", order = "sequency", seed = 0}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SpectrumOptions {
    pub signal: Option<SignalKind>,
    pub n: Option<f64>,
    pub kind: Option<TransformKind>,
    pub order: Option<WhtOrderOption>,
    pub seed: Option<f64>,
}

/// Options of a vector's spectrum (`transformVector`): `{order, seed}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct VectorOptions {
    pub order: Option<WhtOrderOption>,
    pub seed: Option<f64>,
}

/// The wire keys of an option struct (its serde field names, camelCase), found by asking its
/// `Deserialize` implementation which fields it wants (no value is read).
pub fn option_keys<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Probe(Option<&'static [&'static str]>);
    impl<'de> de::Deserializer<'de> for &mut Probe {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(
            self,
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            Err(de::Error::custom("probe"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(de::Error::custom("probe"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut p = Probe(None);
    let _ = T::deserialize(&mut p);
    p.0.unwrap_or(&[])
}

/// Refuses a key that `T` does not have, by name, listing the known ones (the message serde
/// gives for JSON: ``unknown field `x` ``).
pub fn check_keys<T: DeserializeOwned>(keys: &[String]) -> Result<()> {
    let known = option_keys::<T>();
    match keys.iter().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(Error::Input {
            what: format!("unknown field `{k}` (known: {})", known.join(", ")),
        }),
    }
}

/// Parses the JSON text of any option struct (`null`, `undefined` or empty = defaults); errors
/// name the offending key.
pub fn options_from_json<T: DeserializeOwned + Default>(text: &str) -> Result<T> {
    let t = text.trim();
    if t.is_empty() || t == "null" || t == "undefined" {
        return Ok(T::default());
    }
    if !t.starts_with('{') {
        return Err(Error::InvalidParameter {
            name: "options",
            reason: format!("expected an object, got `{t}`"),
        });
    }
    serde_json::from_str(t).map_err(|e| Error::InvalidParameter {
        name: "options",
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_keys_are_the_wire_names() {
        assert_eq!(
            option_keys::<VendiOptions>(),
            ["kernel", "q", "qs", "bandwidth", "relThreshold"]
        );
        assert!(option_keys::<AnalyzeOptions>().contains(&"mpFit"));
        assert_eq!(option_keys::<TradeoffOptions>(), ["precision"]);
        assert!(option_keys::<CompareParams>().contains(&"maxElements"));
        assert!(check_keys::<LoadOptions>(&["tensor".into()]).is_ok());
        let e = check_keys::<LoadOptions>(&["tensr".into()]).unwrap_err();
        assert!(e.to_string().contains("unknown field `tensr`"), "{e}");
    }

    #[test]
    fn wire_enums_parse_and_name_their_key() {
        assert_eq!(
            "walsh".parse::<WhtOrderOption>().unwrap(),
            WhtOrderOption::Sequency
        );
        assert_eq!(WhtOrderOption::Natural.name(), "natural");
        assert_eq!("int4".parse::<PrecisionOption>().unwrap().name(), "int4");
        let e = "nope".parse::<TransformKind>().unwrap_err().to_string();
        assert!(
            e.contains("`kind`") && e.contains("fft | dct | wht | rht"),
            "{e}"
        );
        let e = options_from_json::<SpectrumOptions>(r#"{"kind": "nope"}"#).unwrap_err();
        assert!(e.to_string().contains("kind: unknown `nope`"), "{e}");
        let e = options_from_json::<TradeoffOptions>(r#"{"rank": 3}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `rank`"), "{e}");
        let o: VendiOptions =
            options_from_json(r#"{"kernel": "rbf", "bandwidth": "auto", "qs": [0, 1]}"#).unwrap();
        assert_eq!(o.kernel, Some(KernelOption::Rbf));
        assert_eq!(o.bandwidth, Some(BandwidthOption::Name("auto".into())));
        let t: TargetOptions =
            serde_json::from_str(r#"{"kind": "bytes", "value": 10, "precision": "int8"}"#).unwrap();
        assert_eq!(
            (t.kind, t.precision),
            (TargetKind::Bytes, Some(PrecisionOption::Int8))
        );
    }

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
