//! Rules: a condition over the latest value of names, held `for N`
//! evaluations or `for DURATION` of the run's clock, firing once when the
//! hold is reached and again only after the condition was false (edge, not
//! level).

use crate::spec::{BinaryOp, Expr, Hold};

/// A condition with its names resolved to value slots.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Code {
    Slot(usize),
    Const(f64),
    Neg(Box<Code>),
    Compare(BinaryOp, Box<Code>, Box<Code>),
}

impl Code {
    /// Resolves `expr`'s names with `slot` (None: unknown name, returned).
    pub fn compile<'a>(
        expr: &'a Expr,
        slot: &dyn Fn(&str) -> Option<usize>,
    ) -> Result<Code, &'a str> {
        Ok(match expr {
            Expr::Name(name) => Code::Slot(slot(name).ok_or(name.as_str())?),
            Expr::Number(value) => Code::Const(*value),
            Expr::Bool(value) => Code::Const(if *value { 1.0 } else { 0.0 }),
            Expr::Neg(inner) => Code::Neg(Box::new(Code::compile(inner, slot)?)),
            Expr::Compare(op, lhs, rhs) => Code::Compare(
                *op,
                Box::new(Code::compile(lhs, slot)?),
                Box::new(Code::compile(rhs, slot)?),
            ),
        })
    }

    /// The value, or None while a name it reads has no value yet.
    pub fn eval(&self, values: &[Option<f64>]) -> Option<f64> {
        Some(match self {
            Code::Slot(slot) => values[*slot]?,
            Code::Const(value) => *value,
            Code::Neg(inner) => -inner.eval(values)?,
            Code::Compare(op, lhs, rhs) => {
                let holds = op.holds(lhs.eval(values)?, rhs.eval(values)?);
                if holds { 1.0 } else { 0.0 }
            }
        })
    }
}

/// Where a rule stands between evaluations.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Hysteresis {
    /// Consecutive true evaluations.
    count: u64,
    /// When the condition became true (for a time hold).
    since: Option<f64>,
    /// Fired since the condition last became true.
    fired: bool,
}

impl Hysteresis {
    /// The condition was evaluated at `t`. Returns whether the rule fires now.
    pub fn evaluated(&mut self, hold: Hold, t: f64, holds: bool) -> bool {
        if !holds {
            *self = Hysteresis::default();
            return false;
        }
        self.count += 1;
        let since = *self.since.get_or_insert(t);
        if self.fired {
            return false;
        }
        let reached = match hold {
            Hold::Count(n) => self.count >= n,
            Hold::Seconds(seconds) => t - since >= seconds,
        };
        self.fired = reached;
        reached
    }

    /// When a time hold will be reached if nothing changes (None: not
    /// pending).
    pub fn deadline(&self, hold: Hold) -> Option<f64> {
        match (hold, self.since) {
            (Hold::Seconds(seconds), Some(since)) if !self.fired => Some(since + seconds),
            _ => None,
        }
    }

    /// The clock reached the deadline with the condition still true.
    pub fn deadline_reached(&mut self) {
        self.fired = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The times (or indices) at which a rule fires over `conditions`
    /// evaluated at t = 0, 1, 2, ... with no deadlines in between.
    fn fires(hold: Hold, conditions: &[bool]) -> Vec<usize> {
        let mut state = Hysteresis::default();
        conditions
            .iter()
            .enumerate()
            .filter(|&(t, &holds)| state.evaluated(hold, t as f64, holds))
            .map(|(t, _)| t)
            .collect()
    }

    #[test]
    fn seven_consecutive_matches_with_for_3_fire_once_at_the_third() {
        assert_eq!(fires(Hold::Count(3), &[true; 7]), vec![2]);
    }

    #[test]
    fn a_false_evaluation_rearms_and_restarts_the_count() {
        let c = [true, true, false, true, true, true, false, true, true, true];
        assert_eq!(fires(Hold::Count(3), &c), vec![5, 9]);
        assert_eq!(fires(Hold::Count(2), &c), vec![1, 4, 8]);
    }

    #[test]
    fn no_hold_fires_on_each_rising_edge() {
        let c = [false, true, true, false, true, false, false, true];
        assert_eq!(fires(Hold::Count(1), &c), vec![1, 4, 7]);
    }

    #[test]
    fn a_time_hold_counts_time_not_evaluations() {
        // At t = 0..=6: true from 1; held 3 s at t = 4.
        let c = [false, true, true, true, true, true, true];
        assert_eq!(fires(Hold::Seconds(3.0), &c), vec![4]);
        // Broken at 3: never 3 s in a row.
        let c = [true, true, true, false, true, true];
        assert!(fires(Hold::Seconds(3.0), &c).is_empty());
    }

    #[test]
    fn a_time_hold_has_a_deadline_until_it_fires_or_breaks() {
        let hold = Hold::Seconds(10.0);
        let mut state = Hysteresis::default();
        assert_eq!(state.deadline(hold), None);
        assert!(!state.evaluated(hold, 2.5, true));
        assert_eq!(state.deadline(hold), Some(12.5));
        assert!(!state.evaluated(hold, 4.0, true));
        assert_eq!(state.deadline(hold), Some(12.5), "the hold counts from 2.5");
        state.deadline_reached();
        assert_eq!(state.deadline(hold), None);
        assert!(!state.evaluated(hold, 13.0, true), "fired once per edge");
        assert!(!state.evaluated(hold, 14.0, false));
        assert!(!state.evaluated(hold, 15.0, true));
        assert_eq!(state.deadline(hold), Some(25.0));
        assert_eq!(Hysteresis::default().deadline(Hold::Count(3)), None);
    }

    #[test]
    fn conditions_read_the_latest_values() {
        let expr = Expr::Compare(
            BinaryOp::NotEq,
            Box::new(Expr::Name("a".into())),
            Box::new(Expr::Neg(Box::new(Expr::Name("b".into())))),
        );
        let slot = |name: &str| ["a", "b"].iter().position(|n| *n == name);
        let code = Code::compile(&expr, &slot).unwrap();
        assert_eq!(code.eval(&[Some(1.0), None]), None);
        assert_eq!(code.eval(&[Some(1.0), Some(-1.0)]), Some(0.0));
        assert_eq!(code.eval(&[Some(1.0), Some(2.0)]), Some(1.0));
        let unknown = Expr::Compare(
            BinaryOp::Eq,
            Box::new(Expr::Name("c".into())),
            Box::new(Expr::Bool(true)),
        );
        assert_eq!(Code::compile(&unknown, &slot), Err("c"));
    }
}
