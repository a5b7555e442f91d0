//! CPU-bound bulk work (hashing a large genesis) split over the machine's cores.
//!
//! Each helper cuts its input into one contiguous run per thread and puts the results back in
//! input order: what it returns does not depend on the number of cores. A thread gets at
//! least `min_per_thread` items (the caller knows what an item costs); small inputs stay on the
//! calling thread.

/// How many threads `len` items get.
fn threads_for(len: usize, min_per_thread: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
    cores.min(len / min_per_thread.max(1)).max(1)
}

/// Runs `f` on every item.
pub fn for_each_mut<T: Send>(items: &mut [T], min_per_thread: usize, f: impl Fn(&mut T) + Sync) {
    let threads = threads_for(items.len(), min_per_thread);
    if threads == 1 {
        items.iter_mut().for_each(f);
        return;
    }
    let per = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for run in items.chunks_mut(per) {
            let f = &f;
            scope.spawn(move || run.iter_mut().for_each(f));
        }
    });
}

/// `f(index, item)` of every item, in order; the first error in input order if any.
pub fn try_map<T: Sync, U: Send, E: Send>(
    items: &[T],
    min_per_thread: usize,
    f: impl Fn(usize, &T) -> Result<U, E> + Sync,
) -> Result<Vec<U>, E> {
    let threads = threads_for(items.len(), min_per_thread);
    let per = items.len().div_ceil(threads).max(1);
    let run = |first: usize, run: &[T]| -> Result<Vec<U>, E> {
        (first..).zip(run).map(|(i, item)| f(i, item)).collect()
    };
    if threads == 1 {
        return run(0, items);
    }
    let runs: Vec<Result<Vec<U>, E>> = std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per)
            .enumerate()
            .map(|(k, items)| {
                let run = &run;
                scope.spawn(move || run(k * per, items))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    // The first run grows into the result (a large vector grows in place: no second copy).
    let mut runs = runs.into_iter();
    let mut out = runs.next().unwrap_or_else(|| Ok(Vec::new()))?;
    out.reserve_exact(items.len() - out.len());
    for run in runs {
        out.extend(run?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order_and_the_first_error_wins() {
        let items: Vec<u64> = (0..50_000).collect();
        let squares = try_map(&items, 1000, |i, x| Ok::<_, ()>(x * i as u64)).unwrap();
        assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>());
        // Errors in two runs: the earlier one (in input order) is returned.
        let failed = try_map(&items, 1000, |_, x| match x {
            7 | 40_000 => Err(*x),
            _ => Ok(()),
        });
        assert_eq!(failed, Err(7));
        let mut doubled = items.clone();
        for_each_mut(&mut doubled, 1000, |x| *x *= 2);
        assert!(doubled.iter().zip(&items).all(|(d, x)| *d == 2 * x));
        // Below the threshold: the same, on the calling thread.
        assert_eq!(
            try_map(&items[..3], 1000, |_, x| Ok::<_, ()>(x + 1)),
            Ok(vec![1, 2, 3])
        );
    }
}
