//! Linear sum assignment: the rows-to-columns matching of least total cost,
//! by shortest augmenting paths (Crouse, IEEE TAES 2016) — the algorithm of
//! `scipy.optimize.linear_sum_assignment`, with the same tie-breaking, so
//! the two give the same matching.

use crate::Error;
use std::sync::atomic::{AtomicBool, Ordering};

/// For a `rows x columns` cost matrix (row-major), the column given to each
/// row when `rows <= columns`; with more rows than columns, each column's
/// row is found on the transpose and the result is `(row, column)` pairs
/// for the `columns` rows that get one. Pairs come sorted by row.
pub fn linear_sum_assignment(
    cost: &[f64],
    rows: usize,
    columns: usize,
    cancel: &AtomicBool,
) -> Result<Vec<(usize, usize)>, Error> {
    if cost.len() != rows * columns {
        return Err(Error::Data(format!(
            "a {rows} x {columns} cost matrix needs {} values, found {}",
            rows * columns,
            cost.len()
        )));
    }
    if let Some(bad) = cost.iter().find(|c| c.is_nan() || **c == f64::NEG_INFINITY) {
        return Err(Error::Data(format!(
            "a cost matrix must not hold NaN or -inf, found {bad}"
        )));
    }
    if rows == 0 || columns == 0 {
        return Ok(Vec::new());
    }
    if rows > columns {
        let transposed: Vec<f64> = (0..columns)
            .flat_map(|j| (0..rows).map(move |i| cost[i * columns + j]))
            .collect();
        let mut pairs: Vec<(usize, usize)> = solve(&transposed, columns, rows, cancel)?
            .into_iter()
            .enumerate()
            .map(|(column, row)| (row, column))
            .collect();
        pairs.sort_unstable();
        return Ok(pairs);
    }
    Ok(solve(cost, rows, columns, cancel)?
        .into_iter()
        .enumerate()
        .collect())
}

/// Crouse's shortest augmenting path for `rows <= columns`.
fn solve(
    cost: &[f64],
    rows: usize,
    columns: usize,
    cancel: &AtomicBool,
) -> Result<Vec<usize>, Error> {
    let mut u = vec![0.0f64; rows];
    let mut v = vec![0.0f64; columns];
    let mut shortest = vec![f64::INFINITY; columns];
    let mut path = vec![usize::MAX; columns];
    let mut column_of_row = vec![usize::MAX; rows];
    let mut row_of_column = vec![usize::MAX; columns];
    let mut seen_rows = vec![false; rows];
    let mut seen_columns = vec![false; columns];
    let mut remaining = vec![0usize; columns];

    for current in 0..rows {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        // Dijkstra over reduced costs from `current` to a free column.
        let mut min_value = 0.0f64;
        let mut left = columns;
        for (it, slot) in remaining.iter_mut().enumerate() {
            *slot = columns - it - 1;
        }
        seen_rows.fill(false);
        seen_columns.fill(false);
        shortest.fill(f64::INFINITY);
        let mut i = current;
        let sink = loop {
            let mut index = usize::MAX;
            let mut lowest = f64::INFINITY;
            seen_rows[i] = true;
            for (it, &j) in remaining[..left].iter().enumerate() {
                let reduced = min_value + cost[i * columns + j] - u[i] - v[j];
                if reduced < shortest[j] {
                    path[j] = i;
                    shortest[j] = reduced;
                }
                if shortest[j] < lowest || (shortest[j] == lowest && row_of_column[j] == usize::MAX)
                {
                    lowest = shortest[j];
                    index = it;
                }
            }
            min_value = lowest;
            if min_value == f64::INFINITY {
                return Err(Error::Data(
                    "the cost matrix is infeasible (a row can reach no column at finite cost)"
                        .to_owned(),
                ));
            }
            let j = remaining[index];
            seen_columns[j] = true;
            left -= 1;
            remaining[index] = remaining[left];
            if row_of_column[j] == usize::MAX {
                break j;
            }
            i = row_of_column[j];
        };
        // Update the dual variables.
        u[current] += min_value;
        for i in 0..rows {
            if seen_rows[i] && i != current {
                u[i] += min_value - shortest[column_of_row[i]];
            }
        }
        for j in 0..columns {
            if seen_columns[j] {
                v[j] -= min_value - shortest[j];
            }
        }
        // Augment along the path back to `current`.
        let mut j = sink;
        loop {
            let i = path[j];
            row_of_column[j] = i;
            std::mem::swap(&mut column_of_row[i], &mut j);
            if i == current {
                break;
            }
        }
    }
    Ok(column_of_row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(cost: &[f64], columns: usize, pairs: &[(usize, usize)]) -> f64 {
        pairs.iter().map(|&(i, j)| cost[i * columns + j]).sum()
    }

    /// Every permutation's cost, for small matrices.
    fn brute_force(cost: &[f64], n: usize) -> f64 {
        fn walk(
            cost: &[f64],
            n: usize,
            row: usize,
            used: &mut Vec<bool>,
            sum: f64,
            best: &mut f64,
        ) {
            if row == n {
                *best = best.min(sum);
                return;
            }
            for j in 0..n {
                if !used[j] {
                    used[j] = true;
                    walk(cost, n, row + 1, used, sum + cost[row * n + j], best);
                    used[j] = false;
                }
            }
        }
        let mut best = f64::INFINITY;
        walk(cost, n, 0, &mut vec![false; n], 0.0, &mut best);
        best
    }

    #[test]
    fn finds_the_optimum_of_small_square_matrices() {
        let mut state = 7u64;
        for n in 1..=7 {
            for _ in 0..20 {
                let cost: Vec<f64> = (0..n * n)
                    .map(|_| (crate::linalg::splitmix(&mut state) * 10.0).floor())
                    .collect();
                let pairs = linear_sum_assignment(&cost, n, n, &AtomicBool::new(false)).unwrap();
                assert_eq!(pairs.len(), n);
                let mut columns: Vec<usize> = pairs.iter().map(|p| p.1).collect();
                columns.sort_unstable();
                assert_eq!(columns, (0..n).collect::<Vec<_>>());
                assert_eq!(total(&cost, n, &pairs), brute_force(&cost, n));
            }
        }
    }

    #[test]
    fn rectangular_matrices_either_way() {
        let cost = [4.0, 1.0, 5.0, 2.0, 0.0, 6.0];
        let wide = linear_sum_assignment(&cost, 2, 3, &AtomicBool::new(false)).unwrap();
        assert_eq!(wide, vec![(0, 1), (1, 0)]);
        let tall = linear_sum_assignment(&cost, 3, 2, &AtomicBool::new(false)).unwrap();
        assert_eq!(tall, vec![(0, 1), (2, 0)]);
    }

    #[test]
    fn bad_matrices_are_errors() {
        let cancel = AtomicBool::new(false);
        assert!(linear_sum_assignment(&[1.0], 2, 2, &cancel).is_err());
        assert!(linear_sum_assignment(&[f64::NAN, 1.0, 1.0, 1.0], 2, 2, &cancel).is_err());
        let infeasible = [f64::INFINITY; 4];
        assert!(linear_sum_assignment(&infeasible, 2, 2, &cancel).is_err());
    }
}
