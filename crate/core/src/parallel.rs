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
