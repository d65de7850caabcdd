//! The variables an expression can read, and sets of them.
//!
//! Every expression is compiled against a [`VarSet`]: the variables that exist where the
//! expression is written (`$item` only inside a fan-out, `$output` only in `output:`, and so
//! on). A variable outside the set is a compile error, so a misplaced variable is found at
//! validation time rather than at run time.

use std::fmt;

/// A variable of the workflow context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Var {
    /// `$inputs`: the execution's inputs, after defaults and validation.
    Inputs,
    /// `$tasks`: `{name: {output, status, error, attempts}}` of the tasks that have ended.
    Tasks,
    /// `$params`: template parameters.
    Params,
    /// `$item`: the current element of a `for_each` fan-out.
    Item,
    /// `$index`: the position of `$item`, from 0.
    Index,
    /// `$execution`: `{id, workflow, version, started_at}`.
    Execution,
    /// `$secrets`: secret values, resolved only inside executors.
    Secrets,
    /// `$output`: a task's raw result, in its `output:` expression.
    Output,
    /// `$event`: the event a `wait_event` task's `filter` (or an event trigger) judges.
    Event,
    /// `$request`: the HTTP request a `webhook` trigger received.
    Request,
    /// `$trigger`: the fire of a `schedule` trigger (`{id, scheduled_at, fired_at}`).
    Trigger,
}

impl Var {
    /// Every variable, in a fixed order (the order of their bindings at evaluation).
    pub const ALL: [Var; 11] = [
        Var::Inputs,
        Var::Tasks,
        Var::Params,
        Var::Item,
        Var::Index,
        Var::Execution,
        Var::Secrets,
        Var::Output,
        Var::Event,
        Var::Request,
        Var::Trigger,
    ];

    /// The name as written in expressions, with its `$`.
    pub const fn name(self) -> &'static str {
        match self {
            Var::Inputs => "$inputs",
            Var::Tasks => "$tasks",
            Var::Params => "$params",
            Var::Item => "$item",
            Var::Index => "$index",
            Var::Execution => "$execution",
            Var::Secrets => "$secrets",
            Var::Output => "$output",
            Var::Event => "$event",
            Var::Request => "$request",
            Var::Trigger => "$trigger",
        }
    }

    /// The variable with this name (`$inputs`), if there is one.
    pub fn from_name(name: &str) -> Option<Var> {
        Var::ALL.into_iter().find(|v| v.name() == name)
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`Var`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VarSet(u16);

impl VarSet {
    /// No variables.
    pub const EMPTY: VarSet = VarSet(0);
    /// Every variable.
    pub const ALL: VarSet = VarSet((1 << Var::ALL.len()) - 1);

    /// The set of the given variables.
    pub const fn of(vars: &[Var]) -> VarSet {
        let mut bits = 0;
        let mut i = 0;
        while i < vars.len() {
            bits |= vars[i].bit();
            i += 1;
        }
        VarSet(bits)
    }

    /// This set with `var` added.
    #[must_use]
    pub const fn with(self, var: Var) -> VarSet {
        VarSet(self.0 | var.bit())
    }

    /// This set without `var`.
    #[must_use]
    pub const fn without(self, var: Var) -> VarSet {
        VarSet(self.0 & !var.bit())
    }

    /// Whether `var` is in the set.
    pub const fn contains(self, var: Var) -> bool {
        self.0 & var.bit() != 0
    }

    /// The variables of the set, in [`Var::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Var> {
        Var::ALL.into_iter().filter(move |v| self.contains(*v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for v in Var::ALL {
            assert_eq!(Var::from_name(v.name()), Some(v));
        }
        assert_eq!(Var::from_name("$nope"), None);
    }

    #[test]
    fn set_operations() {
        let s = VarSet::of(&[Var::Inputs, Var::Item]);
        assert!(s.contains(Var::Inputs) && s.contains(Var::Item));
        assert!(!s.contains(Var::Tasks));
        assert!(s.with(Var::Tasks).contains(Var::Tasks));
        assert!(!s.without(Var::Item).contains(Var::Item));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![Var::Inputs, Var::Item]);
        assert_eq!(VarSet::ALL.iter().count(), Var::ALL.len());
    }
}
