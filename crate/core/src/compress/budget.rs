//! Model-level rank budgets: choose one rank per layer under a byte/parameter budget or an error
//! ceiling, from the layers' spectra only.
//!
//! Each layer `ℓ` (`N_ℓ × M_ℓ`, spectrum `σ`) is stored either as rank-`k` factors (`k(N+M)`
//! numbers, squared error `tail_ℓ(k) = Σ_{i>k} σᵢ²`) for `min_rank ≤ k ≤ max_saving_rank`, or
//! **dense** (`NM` numbers, error 0): factors at or above the break-even rank would cost more
//! than the dense tensor, so the planner never chooses them (a dense layer is reported with
//! `rank = min(N, M)`).
//!
//! The objective is `Σ_ℓ w_ℓ·tail_ℓ(k_ℓ)` with [`ErrorObjective::Absolute`] `w = 1` (sum of
//! squared Frobenius errors; big layers dominate) or [`ErrorObjective::Relative`] `w = 1/‖W_ℓ‖²`
//! (sum of squared per-layer relative errors). An error ceiling `ε` means
//! `Σ w·tail ≤ ε²·Σ w·‖W_ℓ‖²`: for the absolute objective the model-level relative error
//! `√(Σ tail / Σ ‖W‖²) ≤ ε`, for the relative one the RMS of the per-layer relative errors ≤ ε.
//!
//! Methods:
//! - [`AllocationMethod::Uniform`]: the same `k/min(N, M)` ratio everywhere (rounded down);
//! - [`AllocationMethod::Energy`]: the same retained-energy threshold τ everywhere;
//! - [`AllocationMethod::Greedy`]: spend the budget where it lowers the objective most per
//!   stored number. Each layer's options (ranks `min_rank..=cap`, then dense) are reduced to the
//!   upper concave hull of (numbers, objective decrease): rank steps gain `w·σ²_{k+1}` for
//!   `N+M` numbers each (non-increasing), and going dense from the cap buys `w·tail(cap)` for
//!   `NM − cap(N+M)` numbers, often the best deal of all, which a rank-by-rank greedy would
//!   never reach. Hull segments are taken in decreasing gain per number (max-heap over layers);
//!   a segment that no longer fits is filled rank by rank as far as it fits. Greedy is optimal
//!   for the convexified problem and within one segment's gain of the true optimum. To be fast,
//!   all segments steeper than a threshold λ (found by bisection) are taken at once before the
//!   heap finishes: the same allocation as the plain heap.
//! - [`AllocationMethod::WeLore`]: WeLore's rule: normalise each spectrum
//!   `s̃ = (σ − σ_min)/(σ_max − σ_min)` and keep `#{s̃ ≥ τ}` directions with one global τ (a flat
//!   spectrum keeps all); a layer whose kept rank is not below break-even stays dense.
//!
//! The first three scalar-knob methods find their knob by bisection (cost is monotone in it).
//! [`BudgetPlan`] holds the sorted `σ²` and tail sums of every layer, computed once, so a
//! re-plan costs only the allocation.

use super::truncation::{
    energy_rank, max_saving_rank, squared_singular_values, tail_energies, Spectrum,
};
use super::Precision;
use crate::{Error, Result};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

/// One layer given to [`BudgetPlan::new`].
#[derive(Debug, Clone, Copy)]
pub struct LayerSpectrum<'a> {
    pub name: &'a str,
    pub rows: usize,
    pub cols: usize,
    pub spectrum: Spectrum<'a>,
}

/// How ranks are spread over layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AllocationMethod {
    Uniform,
    Energy,
    Greedy,
    WeLore,
}

// On the wire (CLI flags, bindings) methods are parsed by `session::options::MethodOption`.

/// What the allocation minimises (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorObjective {
    Absolute,
    Relative,
}

/// The constraint of an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum BudgetTarget {
    /// At most this many stored numbers in total (factors + dense layers).
    Params(u64),
    /// At most this fraction (0, 1] of the dense parameter count.
    ParamFraction(f64),
    /// At most this many bytes with every number stored at `precision` (per-layer
    /// [`Precision::bytes`]; converted to parameters with [`Precision::bytes_per_number`] after
    /// 5 bytes per layer of rounding slack for the integer precisions).
    Bytes { bytes: u64, precision: Precision },
    /// Fewest parameters with the aggregate error at most this (see the module doc).
    ErrorCeiling(f64),
}

/// Options of [`BudgetPlan::allocate`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BudgetParams {
    pub method: AllocationMethod,
    pub objective: ErrorObjective,
    /// Smallest rank a factored layer keeps (default 1; 0 allows dropping a layer).
    pub min_rank: usize,
}

impl Default for BudgetParams {
    fn default() -> Self {
        BudgetParams {
            method: AllocationMethod::Greedy,
            objective: ErrorObjective::Absolute,
            min_rank: 1,
        }
    }
}

/// One layer of an [`Allocation`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerAllocation {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    /// Kept rank (`min(N, M)` when dense).
    pub rank: usize,
    /// Stored dense (factors would not save bytes).
    pub dense: bool,
    /// Stored numbers: `rank(N+M)`, or `NM` when dense.
    pub params: u64,
    /// `√(tail(rank)/‖W‖²)` (0 when dense).
    pub rel_fro_error: f64,
}

/// The result of [`BudgetPlan::allocate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Allocation {
    pub method: AllocationMethod,
    pub objective: ErrorObjective,
    /// The knob found by bisection (ratio, τ of energy, τ of WeLore); `None` for greedy.
    pub knob: Option<f64>,
    /// The parameter budget (`None` for an error ceiling).
    pub budget_params: Option<u64>,
    /// Per layer (left out of the JSON when emptied for a totals-only comparison).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<LayerAllocation>,
    /// Σ stored numbers.
    pub params: u64,
    /// Σ `NM`.
    pub dense_params: u64,
    /// `√(Σ tail / Σ ‖W‖²)`: the model-level relative Frobenius error.
    pub model_rel_error: f64,
    /// `√(mean_ℓ rel_fro_error²)`.
    pub rms_layer_rel_error: f64,
    /// `Σ w·tail`, the minimised objective.
    pub objective_value: f64,
}

impl Allocation {
    /// `{tensor: rank}` (a dense layer has rank `min(N, M)`).
    pub fn ranks(&self) -> BTreeMap<String, usize> {
        self.layers
            .iter()
            .map(|l| (l.name.clone(), l.rank))
            .collect()
    }

    /// The plan as JSON text `{"tensor": rank, …}` (sorted by tensor name).
    pub fn plan_json(&self) -> String {
        serde_json::to_string_pretty(&self.ranks()).expect("a map of strings to integers")
    }

    /// Total bytes with every number stored at `p` (per-layer [`Precision::bytes`]).
    pub fn bytes(&self, p: Precision) -> u64 {
        self.layers.iter().map(|l| p.bytes(l.params)).sum()
    }
}

#[derive(Debug, Clone, Serialize)]
struct PlannedLayer {
    name: String,
    rows: usize,
    cols: usize,
    /// min(N, M): the rank that means "dense".
    full: usize,
    /// Largest rank whose factors save bytes.
    cap: usize,
    /// Descending σ².
    s2: Vec<f64>,
    /// tail[k] = Σ_{i>k} σ², k = 0..=s2.len().
    tail: Vec<f64>,
    /// Hull vertices and unweighted segment slopes for the default start (`min_rank = 1`),
    /// filled by [`BudgetPlan::new`].
    hull1: (Vec<usize>, Vec<f64>),
    /// Descending σ padded with zeros to `full`, normalised as WeLore does (None: flat).
    welore: Option<Vec<f64>>,
}

impl PlannedLayer {
    fn total(&self) -> f64 {
        self.tail[0]
    }
    fn tail_at(&self, k: usize) -> f64 {
        if k > self.cap {
            0.0
        } else {
            self.tail[k.min(self.s2.len())]
        }
    }
    fn cost(&self, k: usize) -> u64 {
        if k > self.cap {
            self.rows as u64 * self.cols as u64
        } else {
            k as u64 * (self.rows + self.cols) as u64
        }
    }
    /// Rank after applying the lower bound and the dense switch (`full` = dense).
    fn clamp(&self, k: usize, min_rank: usize) -> usize {
        let k = k.max(min_rank);
        if k > self.cap {
            self.full
        } else {
            k
        }
    }
}

/// Precomputed spectra of a model (sorted `σ²`, tail sums, break-even caps): build once, call
/// [`BudgetPlan::allocate`] for every budget/method the user tries.
#[derive(Debug, Clone, Serialize)]
pub struct BudgetPlan {
    layers: Vec<PlannedLayer>,
}

struct HeapItem {
    gain_per_param: f64,
    layer: usize,
}

impl PartialEq for HeapItem {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for HeapItem {}
impl PartialOrd for HeapItem {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for HeapItem {
    fn cmp(&self, o: &Self) -> Ordering {
        self.gain_per_param
            .total_cmp(&o.gain_per_param)
            .then(o.layer.cmp(&self.layer))
    }
}

impl BudgetPlan {
    /// Validates every layer's spectrum ([`squared_singular_values`]) and precomputes its tail.
    /// Errors name the layer. An empty model is [`Error::Empty`].
    pub fn new(layers: &[LayerSpectrum<'_>]) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::Empty { rows: 0, cols: 0 });
        }
        let planned = layers
            .iter()
            .map(|l| {
                let s2 = squared_singular_values(l.spectrum, l.rows, l.cols).map_err(|e| {
                    Error::InvalidParameter {
                        name: "spectrum",
                        reason: format!("layer `{}`: {e}", l.name),
                    }
                })?;
                let tail = tail_energies(&s2);
                let full = l.rows.min(l.cols);
                let welore = {
                    let smax = s2.first().copied().unwrap_or(0.0).sqrt();
                    let smin = if s2.len() < full {
                        0.0
                    } else {
                        s2.last().copied().unwrap_or(0.0).sqrt()
                    };
                    (smax > smin).then(|| {
                        (0..full)
                            .map(|i| {
                                (s2.get(i).copied().unwrap_or(0.0).sqrt() - smin) / (smax - smin)
                            })
                            .collect()
                    })
                };
                Ok(PlannedLayer {
                    name: l.name.to_string(),
                    rows: l.rows,
                    cols: l.cols,
                    full,
                    cap: max_saving_rank(l.rows, l.cols).min(full),
                    s2,
                    tail,
                    welore,
                    hull1: (Vec::new(), Vec::new()),
                })
            })
            .collect::<Result<Vec<PlannedLayer>>>()?;
        let mut plan = BudgetPlan { layers: planned };
        for i in 0..plan.layers.len() {
            let l = &plan.layers[i];
            let hs = plan.hull_and_slopes(l, l.clamp(1, 1));
            plan.layers[i].hull1 = hs;
        }
        Ok(plan)
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Always false (a plan has at least one layer).
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Σ `NM` over layers.
    pub fn dense_params(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| l.rows as u64 * l.cols as u64)
            .sum()
    }

    fn weight(&self, l: &PlannedLayer, objective: ErrorObjective) -> f64 {
        match objective {
            ErrorObjective::Absolute => 1.0,
            ErrorObjective::Relative => {
                if l.total() > 0.0 {
                    1.0 / l.total()
                } else {
                    0.0
                }
            }
        }
    }

    /// Ranks of a scalar-knob method at quality `q ∈ [0, 1]` (cost non-decreasing in `q`).
    fn knob_ranks(&self, method: AllocationMethod, q: f64, min_rank: usize) -> Vec<usize> {
        self.layers
            .iter()
            .map(|l| {
                let k = match method {
                    AllocationMethod::Uniform => (q * l.full as f64 + 1e-9).floor() as usize,
                    AllocationMethod::Energy => {
                        if q >= 1.0 {
                            l.full
                        } else {
                            energy_rank(&l.tail, q)
                        }
                    }
                    AllocationMethod::WeLore => match &l.welore {
                        None => l.full,
                        Some(s) => {
                            let tau = 1.0 - q;
                            s.partition_point(|&v| v >= tau) // s̃ is descending
                        }
                    },
                    AllocationMethod::Greedy => unreachable!("greedy has no knob"),
                };
                l.clamp(k.min(l.full), min_rank)
            })
            .collect()
    }

    fn cost_of(&self, ranks: &[usize]) -> u64 {
        self.layers.iter().zip(ranks).map(|(l, &k)| l.cost(k)).sum()
    }

    fn objective_of(&self, ranks: &[usize], obj: ErrorObjective) -> f64 {
        self.layers
            .iter()
            .zip(ranks)
            .map(|(l, &k)| self.weight(l, obj) * l.tail_at(k))
            .sum()
    }

    fn start_ranks(&self, min_rank: usize) -> Vec<usize> {
        self.layers
            .iter()
            .map(|l| l.clamp(min_rank, min_rank))
            .collect()
    }

    /// Allocates ranks for `target` with `params` (see the module doc).
    ///
    /// Errors: [`Error::InvalidParameter`] for a fraction outside (0, 1], a negative or
    /// non-finite ceiling, or a budget below the smallest allocation (`min_rank` everywhere).
    pub fn allocate(&self, target: BudgetTarget, params: &BudgetParams) -> Result<Allocation> {
        let dense = self.dense_params();
        let budget = match target {
            BudgetTarget::Params(p) => Some(p),
            BudgetTarget::ParamFraction(f) => {
                if !(f > 0.0 && f <= 1.0) {
                    return Err(Error::InvalidParameter {
                        name: "budget",
                        reason: format!("fraction {f} is not in (0, 1]"),
                    });
                }
                Some((f * dense as f64).floor() as u64)
            }
            BudgetTarget::Bytes { bytes, precision } => {
                // Integer precisions round each layer up to whole bytes and whole scale groups:
                // keep ≤ 5 bytes per layer of slack so the byte total never exceeds the budget.
                let slack = match precision {
                    Precision::F32 | Precision::F16 => 0,
                    Precision::Int8 | Precision::Int4 => 5 * self.layers.len() as u64,
                };
                Some(
                    (bytes.saturating_sub(slack) as f64 / precision.bytes_per_number()).floor()
                        as u64,
                )
            }
            BudgetTarget::ErrorCeiling(e) => {
                if !(e.is_finite() && e >= 0.0) {
                    return Err(Error::InvalidParameter {
                        name: "error",
                        reason: format!("error ceiling {e} must be finite and ≥ 0"),
                    });
                }
                None
            }
        };
        let obj = params.objective;
        let min_rank = params.min_rank;
        let start = self.start_ranks(min_rank);
        if let Some(b) = budget {
            let c = self.cost_of(&start);
            if c > b {
                return Err(Error::InvalidParameter {
                    name: "budget",
                    reason: format!(
                        "{b} parameters is below the smallest allocation ({c} parameters at rank {min_rank} everywhere)"
                    ),
                });
            }
        }
        let weighted_total: f64 = self
            .layers
            .iter()
            .map(|l| self.weight(l, obj) * l.total())
            .sum();
        let allowed = match target {
            BudgetTarget::ErrorCeiling(e) => e * e * weighted_total,
            _ => f64::NAN,
        };
        let (ranks, knob) = match params.method {
            AllocationMethod::Greedy => (self.greedy(start, budget, allowed, obj), None),
            m => {
                let feasible = |q: f64| {
                    let r = self.knob_ranks(m, q, min_rank);
                    match budget {
                        Some(b) => self.cost_of(&r) <= b,
                        None => self.objective_of(&r, obj) <= allowed,
                    }
                };
                // Budget: largest feasible q (feasible set is [0, q*]); ceiling: smallest
                // feasible q (feasible set is [q*, 1]).
                let q = if budget.is_some() {
                    if feasible(1.0) {
                        1.0
                    } else {
                        let (mut lo, mut hi) = (0.0, 1.0);
                        for _ in 0..64 {
                            let mid = 0.5 * (lo + hi);
                            if feasible(mid) {
                                lo = mid
                            } else {
                                hi = mid
                            }
                        }
                        lo
                    }
                } else if feasible(0.0) {
                    0.0
                } else {
                    let (mut lo, mut hi) = (0.0, 1.0);
                    for _ in 0..64 {
                        let mid = 0.5 * (lo + hi);
                        if feasible(mid) {
                            hi = mid
                        } else {
                            lo = mid
                        }
                    }
                    hi
                };
                let knob = if m == AllocationMethod::WeLore {
                    1.0 - q
                } else {
                    q
                };
                (self.knob_ranks(m, q, min_rank), Some(knob))
            }
        };
        Ok(self.report(params, knob, budget, &ranks))
    }

    /// Vertices (ranks; `full` = dense) of the upper concave hull of the layer's options
    /// `(cost(k), −w·tail(k))` for `k = start..=cap` and dense. Rank steps are concave already
    /// (`σ²` non-increasing); the hull matters where going dense is worth more per number than
    /// the last rank steps.
    fn hull(&self, l: &PlannedLayer, start: usize) -> Vec<usize> {
        if start > l.cap {
            return vec![start];
        }
        let point = |k: usize| (l.cost(k) as f64, -l.tail_at(k));
        let mut h: Vec<usize> = Vec::with_capacity(8);
        for k in (start..=l.cap).chain(std::iter::once(l.full)) {
            let p = point(k);
            while h.len() >= 2 {
                let (a, b) = (point(h[h.len() - 2]), point(h[h.len() - 1]));
                // Drop b if it lies on or below the chord a → p.
                if (b.1 - a.1) * (p.0 - a.0) <= (p.1 - a.1) * (b.0 - a.0) {
                    h.pop();
                } else {
                    break;
                }
            }
            h.push(k);
        }
        h
    }

    /// [`Self::hull`] and its segments' unweighted gain per number (strictly decreasing).
    fn hull_and_slopes(&self, l: &PlannedLayer, start: usize) -> (Vec<usize>, Vec<f64>) {
        let h = self.hull(l, start);
        let s = h
            .windows(2)
            .map(|p| (l.tail_at(p[0]) - l.tail_at(p[1])) / (l.cost(p[1]) - l.cost(p[0])) as f64)
            .collect();
        (h, s)
    }

    /// Greedy over hull segments with a max-heap of gain per stored number. A segment that does
    /// not fit the remaining budget is taken rank by rank as far as it fits (then the layer
    /// stops); with an error ceiling, rank steps stop as soon as the ceiling is met.
    /// The same target with every [`AllocationMethod`] (uniform, energy, greedy, WeLore), to
    /// compare their errors.
    pub fn compare(
        &self,
        target: BudgetTarget,
        objective: ErrorObjective,
        min_rank: usize,
    ) -> Result<Vec<Allocation>> {
        [
            AllocationMethod::Uniform,
            AllocationMethod::Energy,
            AllocationMethod::Greedy,
            AllocationMethod::WeLore,
        ]
        .into_iter()
        .map(|method| {
            self.allocate(
                target,
                &BudgetParams {
                    method,
                    objective,
                    min_rank,
                },
            )
        })
        .collect()
    }

    fn greedy(
        &self,
        mut ranks: Vec<usize>,
        budget: Option<u64>,
        allowed: f64,
        obj: ErrorObjective,
    ) -> Vec<usize> {
        let mut spent = self.cost_of(&ranks);
        let mut err = self.objective_of(&ranks, obj);
        if budget.is_none() && err <= allowed {
            return ranks;
        }
        // Hulls depend on the start rank only (a positive weight scales a layer's slopes), so
        // the plan's cached ones serve the default `min_rank = 1`.
        let computed: Vec<(Vec<usize>, Vec<f64>)>;
        let hs: Vec<&(Vec<usize>, Vec<f64>)> = if self
            .layers
            .iter()
            .zip(&ranks)
            .all(|(l, &k)| l.hull1.0.first() == Some(&k))
        {
            self.layers.iter().map(|l| &l.hull1).collect()
        } else {
            computed = self
                .layers
                .iter()
                .zip(&ranks)
                .map(|(l, &k)| self.hull_and_slopes(l, k))
                .collect();
            computed.iter().collect()
        };
        let hulls: Vec<&[usize]> = hs.iter().map(|h| h.0.as_slice()).collect();
        let slopes: Vec<&[f64]> = hs.iter().map(|h| h.1.as_slice()).collect();
        let mut next = vec![1usize; self.layers.len()];
        // Fast-forward: greedy would first take every hull segment whose gain per number
        // exceeds some threshold λ (hull slopes decrease within a layer, and those segments
        // all fit). Find the smallest such λ by bisection (O(L log K) per probe), apply it,
        // and let the heap finish from there: same result, far fewer heap operations.
        let weights: Vec<f64> = self.layers.iter().map(|l| self.weight(l, obj)).collect();
        let taken = |lambda: f64| -> Vec<usize> {
            slopes
                .iter()
                .zip(&weights)
                .map(|(s, &w)| s.partition_point(|&v| w * v > lambda))
                .collect()
        };
        let effect = |t: &[usize]| -> (u64, f64) {
            let mut c = 0;
            let mut g = 0.0;
            for (i, &ti) in t.iter().enumerate() {
                let (l, h) = (&self.layers[i], &hulls[i]);
                c += l.cost(h[ti]) - l.cost(h[0]);
                g += weights[i] * (l.tail_at(h[0]) - l.tail_at(h[ti]));
            }
            (c, g)
        };
        // `ok(λ)`: taking every segment steeper than λ keeps greedy "still going" (within the
        // budget, or still above the error ceiling). ok is monotone: false for small λ.
        let ok = |lambda: f64| {
            let (c, g) = effect(&taken(lambda));
            match budget {
                Some(b) => spent + c <= b,
                None => err - g > allowed,
            }
        };
        let top = slopes
            .iter()
            .zip(&weights)
            .filter_map(|(s, &w)| s.first().map(|&v| w * v))
            .fold(0.0f64, f64::max);
        if top > 0.0 {
            let lambda = if ok(0.0) {
                0.0
            } else {
                let (mut lo, mut hi) = (0.0, top);
                for _ in 0..60 {
                    let mid = 0.5 * (lo + hi);
                    if ok(mid) {
                        hi = mid
                    } else {
                        lo = mid
                    }
                }
                hi
            };
            let t = taken(lambda);
            let (c, g) = effect(&t);
            spent += c;
            err -= g;
            for (i, &ti) in t.iter().enumerate() {
                ranks[i] = hulls[i][ti];
                next[i] = ti + 1;
            }
        }
        let segment = |i: usize, from: usize, v: usize| -> Option<(f64, u64, usize)> {
            let h = &hulls[i];
            let to = *h.get(v)?;
            let l = &self.layers[i];
            let w = self.weight(l, obj);
            Some((
                w * (l.tail_at(from) - l.tail_at(to)),
                l.cost(to) - l.cost(from),
                to,
            ))
        };
        let mut heap = BinaryHeap::with_capacity(self.layers.len());
        let push = |heap: &mut BinaryHeap<HeapItem>, i: usize, from: usize, v: usize| {
            if let Some((g, c, _)) = segment(i, from, v) {
                if g > 0.0 && c > 0 {
                    heap.push(HeapItem {
                        gain_per_param: g / c as f64,
                        layer: i,
                    });
                }
            }
        };
        for (i, &k) in ranks.iter().enumerate() {
            push(&mut heap, i, k, next[i]);
        }
        while let Some(item) = heap.pop() {
            let i = item.layer;
            let l = &self.layers[i];
            let w = self.weight(l, obj);
            let (g, c, to) = segment(i, ranks[i], next[i]).expect("queued segments exist");
            let fits = budget.is_none_or(|b| spent + c <= b);
            if fits && (to == l.full || budget.is_some()) {
                spent += c;
                err -= g;
                ranks[i] = to;
                next[i] += 1;
                push(&mut heap, i, to, next[i]);
            } else {
                // Rank by rank toward `min(to, cap)`.
                let target = to.min(l.cap);
                let step = (l.rows + l.cols) as u64;
                let mut stopped = false;
                while ranks[i] < target {
                    if budget.is_some_and(|b| spent + step > b) {
                        stopped = true;
                        break;
                    }
                    if budget.is_none() && err <= allowed {
                        break;
                    }
                    err -= w * (l.tail_at(ranks[i]) - l.tail_at(ranks[i] + 1));
                    spent += step;
                    ranks[i] += 1;
                }
                if !stopped && ranks[i] == to {
                    next[i] += 1;
                    push(&mut heap, i, to, next[i]);
                }
            }
            if budget.is_none() && err <= allowed {
                break;
            }
        }
        ranks
    }

    fn report(
        &self,
        params: &BudgetParams,
        knob: Option<f64>,
        budget: Option<u64>,
        ranks: &[usize],
    ) -> Allocation {
        let layers: Vec<LayerAllocation> = self
            .layers
            .iter()
            .zip(ranks)
            .map(|(l, &k)| LayerAllocation {
                name: l.name.clone(),
                rows: l.rows,
                cols: l.cols,
                rank: k,
                dense: k > l.cap,
                params: l.cost(k),
                rel_fro_error: super::ratio(l.tail_at(k), l.total()),
            })
            .collect();
        let tail: f64 = self
            .layers
            .iter()
            .zip(ranks)
            .map(|(l, &k)| l.tail_at(k))
            .sum();
        let total: f64 = self.layers.iter().map(|l| l.total()).sum();
        let n = layers.len().max(1) as f64;
        Allocation {
            method: params.method,
            objective: params.objective,
            knob,
            budget_params: budget,
            params: layers.iter().map(|l| l.params).sum(),
            dense_params: self.dense_params(),
            model_rel_error: super::ratio(tail, total),
            rms_layer_rel_error: (layers.iter().map(|l| l.rel_fro_error.powi(2)).sum::<f64>() / n)
                .sqrt(),
            objective_value: self.objective_of(ranks, params.objective),
            layers,
        }
    }
}
