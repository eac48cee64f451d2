//! PEFT LoRA adapters: `adapter_config.json` + `adapter_model.safetensors` (see the module doc of
//! [`super`] for keys, orientation and scaling).

use crate::formats::ByteSource;
use crate::session::{AnalyzeOptions, ModelSession, NamedSource};
use crate::{Error, Result};

/// The parts of a PEFT `LoraConfig` that change ΔW.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoraConfig {
    /// Default rank r (PEFT default 8).
    pub r: usize,
    /// Default `lora_alpha` (PEFT default 8).
    pub lora_alpha: f64,
    /// s = α/√r instead of α/r.
    pub use_rslora: bool,
    /// The base stores (in, out) (GPT-2 `Conv1D`): ΔW = s·(BA)ᵀ as stored.
    pub fan_in_fan_out: bool,
    /// Per-module rank and alpha overrides (module-name suffix → value), in the file's order.
    pub rank_pattern: Vec<(String, usize)>,
    pub alpha_pattern: Vec<(String, f64)>,
    /// Modules saved whole (compared as full replacements).
    pub modules_to_save: Vec<String>,
    /// `target_modules` when it is a list (a regex string is kept as one entry).
    pub target_modules: Vec<String>,
    /// `init_lora_weights` when it is a string (`pissa`, `olora`, …): these mutate the base.
    pub init_lora_weights: Option<String>,
}

fn bad_config(why: String) -> Error {
    Error::Format {
        what: format!("adapter_config.json: {why}"),
    }
}

/// Whether `pattern` selects `module`: PEFT's `re.match(rf"(.*\.)?({k})$", module)` restricted to
/// literal keys (the module name itself or a dotted suffix of it).
fn pattern_matches(pattern: &str, module: &str) -> bool {
    module == pattern
        || (module.len() > pattern.len()
            && module.ends_with(pattern)
            && module.as_bytes()[module.len() - pattern.len() - 1] == b'.')
}

fn check_literal(key: &str, field: &str) -> Result<()> {
    if key.chars().any(|c| "*+?()[]{}|^$\\".contains(c)) {
        return Err(bad_config(format!(
            "{field} key `{key}` is a regular expression; only literal module names (or dotted suffixes) are supported"
        )));
    }
    Ok(())
}

impl LoraConfig {
    /// Parses `adapter_config.json`. Refuses non-LoRA adapters, DoRA (`use_dora`), r = 0 and
    /// regular-expression pattern keys.
    pub fn from_json(text: &[u8]) -> Result<LoraConfig> {
        let v: serde_json::Value = serde_json::from_slice(text)
            .map_err(|e| bad_config(format!("not valid JSON ({e})")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| bad_config("not a JSON object".into()))?;
        if let Some(t) = obj.get("peft_type").and_then(|t| t.as_str()) {
            if !t.eq_ignore_ascii_case("lora") {
                return Err(bad_config(format!(
                    "peft_type is `{t}`: only LoRA adapters are supported"
                )));
            }
        }
        if obj.get("use_dora").and_then(|d| d.as_bool()) == Some(true) {
            return Err(bad_config(
                "DoRA adapters are not supported (use_dora = true)".into(),
            ));
        }
        let uint = |key: &str, default: usize| -> Result<usize> {
            match obj.get(key) {
                None | Some(serde_json::Value::Null) => Ok(default),
                Some(x) => x.as_u64().map(|u| u as usize).ok_or_else(|| {
                    bad_config(format!("`{key}` = {x} is not a non-negative integer"))
                }),
            }
        };
        let num = |key: &str, default: f64| -> Result<f64> {
            match obj.get(key) {
                None | Some(serde_json::Value::Null) => Ok(default),
                Some(x) => x
                    .as_f64()
                    .ok_or_else(|| bad_config(format!("`{key}` = {x} is not a number"))),
            }
        };
        let flag = |key: &str| obj.get(key).and_then(|b| b.as_bool()).unwrap_or(false);
        let list = |key: &str| -> Vec<String> {
            match obj.get(key) {
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                Some(serde_json::Value::String(s)) => vec![s.clone()],
                _ => Vec::new(),
            }
        };
        let r = uint("r", 8)?;
        if r == 0 {
            return Err(bad_config("r = 0: a LoRA rank must be at least 1".into()));
        }
        let mut rank_pattern = Vec::new();
        if let Some(m) = obj.get("rank_pattern").and_then(|m| m.as_object()) {
            for (k, x) in m {
                check_literal(k, "rank_pattern")?;
                let rk = x.as_u64().ok_or_else(|| {
                    bad_config(format!("rank_pattern[`{k}`] = {x} is not an integer"))
                })? as usize;
                if rk == 0 {
                    return Err(bad_config(format!(
                        "rank_pattern[`{k}`] = 0: a LoRA rank must be at least 1"
                    )));
                }
                rank_pattern.push((k.clone(), rk));
            }
        }
        let mut alpha_pattern = Vec::new();
        if let Some(m) = obj.get("alpha_pattern").and_then(|m| m.as_object()) {
            for (k, x) in m {
                check_literal(k, "alpha_pattern")?;
                let a = x.as_f64().ok_or_else(|| {
                    bad_config(format!("alpha_pattern[`{k}`] = {x} is not a number"))
                })?;
                alpha_pattern.push((k.clone(), a));
            }
        }
        Ok(LoraConfig {
            r,
            lora_alpha: num("lora_alpha", 8.0)?,
            use_rslora: flag("use_rslora"),
            fan_in_fan_out: flag("fan_in_fan_out"),
            rank_pattern,
            alpha_pattern,
            modules_to_save: list("modules_to_save"),
            target_modules: list("target_modules"),
            init_lora_weights: obj
                .get("init_lora_weights")
                .and_then(|x| x.as_str())
                .map(String::from),
        })
    }

    /// `(r, α)` of a module (its name inside the wrapped model, e.g.
    /// `model.layers.0.self_attn.q_proj`): the first matching `rank_pattern` / `alpha_pattern`
    /// key, else the defaults.
    pub fn rank_and_alpha(&self, module: &str) -> (usize, f64) {
        let r = self
            .rank_pattern
            .iter()
            .find(|(k, _)| pattern_matches(k, module))
            .map_or(self.r, |x| x.1);
        let a = self
            .alpha_pattern
            .iter()
            .find(|(k, _)| pattern_matches(k, module))
            .map_or(self.lora_alpha, |x| x.1);
        (r, a)
    }

    /// s = α/r, or α/√r with `use_rslora`.
    pub fn scale(&self, module: &str) -> f64 {
        let (r, a) = self.rank_and_alpha(module);
        if self.use_rslora {
            a / (r as f64).sqrt()
        } else {
            a / r as f64
        }
    }
}

/// One LoRA-adapted module of an adapter file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraModule {
    /// Module name inside the wrapped model (without `base_model.model.`).
    pub module: String,
    /// `lora_embedding_A/B` (an `nn.Embedding`) rather than `lora_A/B`.
    pub embedding: bool,
    /// Positions of A and B in [`LoraAdapter::weights`].
    pub a: Option<usize>,
    pub b: Option<usize>,
}

/// An opened PEFT LoRA adapter: its config and its tensors (a [`ModelSession`] over the adapter
/// weights file).
pub struct LoraAdapter {
    pub config: LoraConfig,
    /// The adapter's tensors.
    pub weights: ModelSession,
    /// The LoRA modules, in file order.
    pub modules: Vec<LoraModule>,
    /// `modules_to_save` tensors: (parameter name without `base_model.model.`, position).
    pub full: Vec<(String, usize)>,
    /// Tensors that are neither (name, why).
    pub ignored: Vec<(String, String)>,
    /// Warnings for the user.
    pub notes: Vec<String>,
}

/// Splits an adapter key at its LoRA segment: `(module, segment, trailing segments)`.
fn split_lora_key(name: &str) -> Option<(String, &str, Vec<&str>)> {
    let segs: Vec<&str> = name.split('.').collect();
    let i = segs.iter().position(|s| {
        matches!(
            *s,
            "lora_A" | "lora_B" | "lora_embedding_A" | "lora_embedding_B" | "lora_magnitude_vector"
        )
    })?;
    let module = segs[..i].join(".");
    let module = module
        .strip_prefix("base_model.model.")
        .unwrap_or(&module)
        .to_string();
    Some((module, segs[i], segs[i + 1..].to_vec()))
}

impl LoraAdapter {
    /// Opens an adapter from its files: `adapter_config.json` and one weights file
    /// (`adapter_model.safetensors`, or `adapter_model.bin`); other files are ignored.
    pub fn open(files: Vec<NamedSource>) -> Result<LoraAdapter> {
        let mut config = None;
        let mut weights = Vec::new();
        for (name, src) in files {
            let base = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string();
            if base == "adapter_config.json" {
                config = Some(read_all(&*src, &name)?);
            } else if base.starts_with("adapter_model.") {
                weights.push((name, src));
            }
        }
        let config = config.ok_or_else(|| Error::Format {
            what: "adapter: no adapter_config.json (the config is required: lora_alpha cannot be read from the weights)".into(),
        })?;
        let config = LoraConfig::from_json(&config)?;
        if weights.is_empty() {
            return Err(Error::Format {
                what: "adapter: no adapter_model.safetensors (or adapter_model.bin)".into(),
            });
        }
        if weights.len() > 1 {
            return Err(Error::Format {
                what:
                    "adapter: both adapter_model.safetensors and adapter_model.bin given; pass one"
                        .into(),
            });
        }
        let weights = ModelSession::open(weights, AnalyzeOptions::default())?;
        Self::from_parts(config, weights)
    }

    /// An adapter from a parsed config and an opened weights session.
    pub fn from_parts(config: LoraConfig, weights: ModelSession) -> Result<LoraAdapter> {
        let mut modules: Vec<LoraModule> = Vec::new();
        let mut full = Vec::new();
        let mut ignored = Vec::new();
        let mut notes = Vec::new();
        if let Some(init) = &config.init_lora_weights {
            notes.push(format!(
                "init_lora_weights = `{init}` changes the base at initialisation: W₀ + sBA on the original base is only right if the adapter was converted when saved"
            ));
        }
        for (pos, t) in weights.tensors().iter().enumerate() {
            let Some((module, seg, rest)) = split_lora_key(&t.name) else {
                let stripped = t.name.strip_prefix("base_model.model.").unwrap_or(&t.name);
                let mut segs: Vec<&str> = stripped.split('.').collect();
                if let Some(i) = segs.iter().position(|s| *s == "modules_to_save") {
                    // `<m>.modules_to_save.<adapter>.<param>`
                    if i + 1 < segs.len() {
                        segs.drain(i..i + 2);
                    }
                }
                let param = segs.join(".");
                let module_of = param.rsplit_once('.').map_or("", |x| x.0);
                if config
                    .modules_to_save
                    .iter()
                    .any(|m| pattern_matches(m, module_of))
                {
                    full.push((param, pos));
                } else {
                    ignored.push((
                        t.name.clone(),
                        "not a LoRA tensor (lora_A/B, lora_embedding_A/B) nor in modules_to_save"
                            .to_string(),
                    ));
                }
                continue;
            };
            if seg == "lora_magnitude_vector" {
                return Err(Error::Format {
                    what: format!(
                        "DoRA adapters are not supported (`{}` is a DoRA magnitude vector)",
                        t.name
                    ),
                });
            }
            let trailing_ok = match rest.as_slice() {
                [] | ["weight"] => true,
                [_adapter] | [_adapter, "weight"] => !rest.contains(&"bias"),
                _ => false,
            };
            if !trailing_ok {
                if rest.last() == Some(&"bias") {
                    notes.push(format!(
                        "`{}`: LoRA bias ignored (only ΔW is compared)",
                        t.name
                    ));
                } else {
                    ignored.push((t.name.clone(), "unexpected LoRA key layout".into()));
                }
                continue;
            }
            let embedding = seg.starts_with("lora_embedding");
            let m = match modules.iter_mut().find(|m| m.module == module) {
                Some(m) => m,
                None => {
                    modules.push(LoraModule {
                        module: module.clone(),
                        embedding,
                        a: None,
                        b: None,
                    });
                    modules.last_mut().expect("just pushed")
                }
            };
            if m.embedding != embedding {
                return Err(Error::Format {
                    what: format!("adapter: module `{module}` has both lora_A/B and lora_embedding_A/B tensors"),
                });
            }
            let slot = if seg.ends_with('A') {
                &mut m.a
            } else {
                &mut m.b
            };
            if slot.is_some() {
                return Err(Error::Format {
                    what: format!("adapter: two `{seg}` tensors for module `{module}`"),
                });
            }
            *slot = Some(pos);
        }
        for t in &config.target_modules {
            if !modules.iter().any(|m| pattern_matches(t, &m.module))
                && !t.chars().any(|c| "*+?()[]{}|^$\\".contains(c))
            {
                notes.push(format!(
                    "target module `{t}` (adapter_config.json) has no LoRA tensors in the adapter"
                ));
            }
        }
        if modules.is_empty() && full.is_empty() {
            return Err(Error::Format {
                what: "adapter: the weights file holds no lora_A/lora_B tensors".into(),
            });
        }
        Ok(LoraAdapter {
            config,
            weights,
            modules,
            full,
            ignored,
            notes,
        })
    }
}

fn read_all(src: &dyn ByteSource, name: &str) -> Result<Vec<u8>> {
    let len = src.len();
    if len > 16 << 20 {
        return Err(Error::Format {
            what: format!("{name}: {len} bytes is too large for a config file"),
        });
    }
    let mut b = vec![0u8; len as usize];
    src.read_at(0, &mut b)?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_suffix_matches() {
        assert!(pattern_matches("q_proj", "model.layers.0.self_attn.q_proj"));
        assert!(pattern_matches(
            "layers.0.self_attn.q_proj",
            "model.layers.0.self_attn.q_proj"
        ));
        assert!(!pattern_matches("proj", "model.layers.0.self_attn.q_proj"));
        let c = LoraConfig::from_json(
            br#"{"peft_type":"LORA","r":4,"lora_alpha":8,"rank_pattern":{"layers.1.q":2},"alpha_pattern":{"q":3}}"#,
        )
        .unwrap();
        assert_eq!(c.rank_and_alpha("m.layers.1.q"), (2, 3.0));
        assert_eq!(c.rank_and_alpha("m.layers.0.q"), (4, 3.0));
        assert_eq!(c.rank_and_alpha("m.layers.0.v"), (4, 8.0));
        assert_eq!(c.scale("m.layers.0.v"), 2.0);
    }
}
