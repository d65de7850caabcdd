//! The scenarios: their names and titles, the bar each should stay under, how each is
//! driven (in a child process, or as a whole `harmonia run`), and the workflow it runs.

/// How a scenario's executions are driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Drive {
    /// In a child process: every execution started at once, then all waited for.
    Together,
    /// In a child process: each execution started and waited for before the next.
    OneAfterAnother,
    /// `harmonia run FILE --db` as a whole process, timed by the parent.
    WholeProcess,
}

/// One scenario of `harmonia bench`.
#[derive(Debug)]
pub(super) struct Scenario {
    pub(super) name: &'static str,
    pub(super) title: &'static str,
    pub(super) bar_ms: f64,
    pub(super) drive: Drive,
    /// The steps that run one after another, each after the previous one's commit
    /// (for `per step / fsync`); `None` when the work runs in parallel.
    pub(super) sequential_steps: Option<u32>,
    /// Whether it runs when no `--scenario` is given (the long ones run when named).
    pub(super) by_default: bool,
}

/// Every scenario, in the order they run; those `by_default` run when none is named.
pub(super) const SCENARIOS: [Scenario; 8] = [
    Scenario {
        name: "a",
        title: "chain of 100",
        bar_ms: 20.0,
        drive: Drive::Together,
        sequential_steps: Some(100),
        by_default: true,
    },
    Scenario {
        name: "b",
        title: "fan-out 1 -> 1000 -> 1",
        bar_ms: 50.0,
        drive: Drive::Together,
        sequential_steps: None,
        by_default: true,
    },
    Scenario {
        name: "c",
        title: "200 executions x 3 tasks, all at once",
        bar_ms: 100.0,
        drive: Drive::Together,
        sequential_steps: None,
        by_default: true,
    },
    Scenario {
        name: "d",
        title: "fan-out of 100,000",
        bar_ms: 10_000.0,
        drive: Drive::Together,
        sequential_steps: None,
        by_default: true,
    },
    Scenario {
        name: "e",
        title: "200 executions x 3 tasks, one after another",
        bar_ms: 300.0,
        drive: Drive::OneAfterAnother,
        sequential_steps: Some(600),
        by_default: true,
    },
    Scenario {
        name: "s",
        title: "harmonia run, one task (whole process)",
        bar_ms: 8.0,
        drive: Drive::WholeProcess,
        sequential_steps: None,
        by_default: true,
    },
    Scenario {
        name: "t",
        title: "harmonia run, 1,000 tasks (whole process)",
        bar_ms: 40.0,
        drive: Drive::WholeProcess,
        sequential_steps: None,
        by_default: true,
    },
    Scenario {
        name: "m",
        title: "fan-out of 1,000,000",
        bar_ms: 60_000.0,
        drive: Drive::Together,
        sequential_steps: None,
        by_default: false,
    },
];

/// The scenario named `name`.
pub(super) fn find(name: &str) -> Option<&'static Scenario> {
    const ALL: &[Scenario] = &SCENARIOS;
    ALL.iter().find(|s| s.name == name)
}

/// What a scenario runs: the definition, the tasks all its executions run together,
/// and how many executions it starts.
#[derive(Debug)]
pub(super) struct Workload {
    pub(super) text: String,
    pub(super) tasks: u64,
    pub(super) executions: usize,
}

/// The workload of `scenario` (one of [`SCENARIOS`]).
pub(super) fn workload(scenario: &Scenario) -> Workload {
    let (text, tasks, executions) = match scenario.name {
        "a" => {
            let mut y = String::from("name: bench-chain\ntasks:\n  t0: {type: set, with: 0}\n");
            for i in 1..100 {
                y.push_str(&format!("  t{i}: {{type: set, needs: [t{}], with: {i}}}\n", i - 1));
            }
            (y, 100, 1)
        }
        "b" => (
            "name: bench-fan\ntasks:\n  start: {type: set, with: 0}\n  fan: {type: set, needs: [start], for_each: '${ [range(1000)] }', with: '${ $item }'}\n  end: {type: set, needs: [fan], with: '${ $tasks.fan.output | length }'}\n".into(),
            1002,
            1,
        ),
        "c" | "e" => (
            "name: bench-many\ntasks:\n  a: {type: set, with: 1}\n  b: {type: set, needs: [a], with: 2}\n  c: {type: set, needs: [b], with: 3}\n".into(),
            600,
            200,
        ),
        "s" => ("name: one\ntasks:\n  only: {type: set, with: 1}\n".into(), 1, 1),
        "t" => {
            let mut y = String::from("name: bench-declared\ntasks:\n");
            for i in 0..1000 {
                y.push_str(&format!("  t{i}: {{type: set, with: {i}}}\n"));
            }
            (y, 1000, 1)
        }
        "m" => (
            "name: bench-million\ntasks:\n  fan: {type: set, for_each: '${ [range(1000000)] }', with: '${ $item }'}\n".into(),
            1_000_000,
            1,
        ),
        _ => (
            "name: bench-wide\ntasks:\n  fan: {type: set, for_each: '${ [range(100000)] }', with: '${ $item }'}\n".into(),
            100_000,
            1,
        ),
    };
    Workload {
        text,
        tasks,
        executions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for s in &SCENARIOS {
            assert_eq!(find(s.name).map(|f| f.title), Some(s.title));
        }
        assert!(find("z").is_none());
    }

    #[test]
    fn sequential_steps_match_the_workloads() {
        for s in &SCENARIOS {
            let w = workload(s);
            if let Some(steps) = s.sequential_steps {
                assert_eq!(u64::from(steps), w.tasks, "scenario {}", s.name);
            }
        }
        let t = workload(find("t").expect("t"));
        assert_eq!(
            t.text.lines().filter(|l| l.contains("type: set")).count(),
            1000
        );
    }
}
