//! Coarse-grained parallelism: with the `parallel` feature, rayon (native threads, or Web Workers
//! through wasm-bindgen-rayon); without it, the same code runs sequentially.

/// Number of worker threads available to [`for_each_mut`] (1 without the `parallel` feature).
pub fn available_threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// Calls `f(index, item)` for every item; in parallel when `parallel` is true and the feature is on.
pub fn for_each_mut<T: Send, F>(items: &mut [T], parallel: bool, f: F)
where
    F: Fn(usize, &mut T) + Sync + Send,
{
    #[cfg(feature = "parallel")]
    if parallel {
        use rayon::prelude::*;
        items.par_iter_mut().enumerate().for_each(|(i, t)| f(i, t));
        return;
    }
    let _ = parallel;
    items.iter_mut().enumerate().for_each(|(i, t)| f(i, t));
}

/// `items.iter().map(f).collect()`, in parallel when `parallel` is true and the feature is on;
/// the output order is the input order either way.
pub fn map_collect<T: Sync, R: Send, F>(items: &[T], parallel: bool, f: F) -> Vec<R>
where
    F: Fn(&T) -> R + Sync + Send,
{
    #[cfg(feature = "parallel")]
    if parallel {
        use rayon::prelude::*;
        return items.par_iter().map(f).collect();
    }
    let _ = parallel;
    items.iter().map(f).collect()
}
