//! The dependency graph of a workflow: each task's `needs` resolved to tasks, a
//! topological order, the cycles reported, and which tasks are upstream of which.
//!
//! Invariants:
//! - `Validator::needs` has one entry per task, in definition order, holding only tasks
//!   that exist and are not the task itself; a wrong name is reported where it is written,
//!   with "did you mean";
//! - without a cycle, [`Validator::order`] gives every task after the tasks it needs;
//!   with cycles it gives `None` and reports each cycle once (one per strongly connected
//!   component, in a stable order), printed from its first task (in definition order)
//!   along `needs` (`a -> b -> a`);
//! - a task in a cycle is its own ancestor; ancestor sets are computed once, on demand.

use std::collections::HashSet;

use harmonia_expr::clip;
use petgraph::graph::{DiGraph, NodeIndex};

use super::Validator;

impl Validator<'_, '_> {
    pub(super) fn resolve_needs(&mut self) {
        let mut all = Vec::with_capacity(self.names.len());
        let entries = self.entries.clone();
        for (i, task) in entries.into_iter().enumerate() {
            let mut resolved = Vec::new();
            for (k, need) in task.needs.iter().enumerate() {
                let path = self.task_path(i).key("needs").index(k);
                let offset = self.locs.value(&path);
                match self.index.get(need.as_str()) {
                    Some(&j) if j == i => self.error(
                        &path,
                        offset,
                        format!("task `{}` cannot need itself", clip(need)),
                    ),
                    Some(&j) if self.blocks[j] != self.blocks[i] => {
                        let message = if self.blocks[i] == "tasks" {
                            format!(
                                "`{}` is a handler (in `{}`): it runs after the workflow's tasks, so none of them can need it",
                                clip(need),
                                self.blocks[j]
                            )
                        } else {
                            format!(
                                "`{}` is in `{}`: a task of `{}` runs after every task of `tasks` has ended, so it needs only tasks of its own block",
                                clip(need),
                                self.blocks[j],
                                self.blocks[i]
                            )
                        };
                        self.error(&path, offset, message);
                    }
                    Some(&j) => resolved.push(j),
                    None => {
                        let hint = harmonia_expr::suggest(need, self.names.iter().copied())
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                        self.error(
                            &path,
                            offset,
                            format!("unknown task `{}` in `needs`{hint}", clip(need)),
                        );
                    }
                }
            }
            all.push(resolved);
        }
        // A compensation waits for the compensations of every task downstream of its
        // task: undoing runs in reverse dependency order.
        // A fallback runs with its task's dependencies.
        for i in self.first_fallback..self.names.len() {
            if let Some(of) = self.falls_back_for(i) {
                all[i] = all[of].clone();
            }
        }
        for i in self.first_compensation..self.first_fallback {
            let Some(of) = self.compensated(i) else {
                continue;
            };
            let mut downstream: HashSet<usize> = HashSet::new();
            let mut stack = vec![of];
            while let Some(t) = stack.pop() {
                for (d, needs) in all.iter().enumerate().take(self.first_compensation) {
                    if needs.contains(&t) && downstream.insert(d) {
                        stack.push(d);
                    }
                }
            }
            all[i] = (self.first_compensation..self.first_fallback)
                .filter(|&j| self.compensated(j).is_some_and(|c| downstream.contains(&c)))
                .collect();
        }
        self.needs = all;
    }

    /// A topological order, or `None` after reporting every cycle.
    pub(super) fn order(&mut self) -> Option<Vec<usize>> {
        let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(self.names.len(), 0);
        let nodes: Vec<NodeIndex> = (0..self.names.len()).map(|i| g.add_node(i)).collect();
        for (i, needs) in self.needs.iter().enumerate() {
            for &n in needs {
                g.add_edge(nodes[n], nodes[i], ());
            }
        }
        if let Ok(order) = petgraph::algo::toposort(&g, None) {
            return Some(order.into_iter().map(|n| g[n]).collect());
        }
        let mut sccs: Vec<Vec<usize>> = petgraph::algo::tarjan_scc(&g)
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| c.into_iter().map(|n| g[n]).collect())
            .collect();
        for scc in &mut sccs {
            scc.sort_unstable();
        }
        sccs.sort();
        for scc in sccs {
            let cycle = self.cycle_in(&scc);
            let start = cycle[0];
            let text: Vec<std::borrow::Cow<'_, str>> = cycle
                .iter()
                .chain([&start])
                .map(|&i| clip(self.names[i]))
                .collect();
            let path = self.task_path(start).key("needs");
            let offset = self.locs.key(&path);
            self.error(
                &path,
                offset,
                format!("dependency cycle: {}", text.join(" -> ")),
            );
        }
        None
    }

    /// A cycle through the strongly connected component `scc`, starting at its first
    /// task, following `needs` (so printed as "a needs b needs c needs a").
    fn cycle_in(&self, scc: &[usize]) -> Vec<usize> {
        let members: HashSet<usize> = scc.iter().copied().collect();
        let start = scc[0];
        let mut path = vec![start];
        let mut seen = HashSet::from([start]);
        let mut current = start;
        loop {
            let next = self.needs[current]
                .iter()
                .copied()
                .filter(|n| members.contains(n))
                .find(|n| *n == start || !seen.contains(n));
            match next {
                Some(n) if n == start => return path,
                Some(n) => {
                    seen.insert(n);
                    path.push(n);
                    current = n;
                }
                None => {
                    // Dead end inside the component: cut the path back to a node
                    // that has a way on. A component always has a cycle through start.
                    let Some(n) = self.needs[current]
                        .iter()
                        .copied()
                        .find(|n| members.contains(n))
                    else {
                        return path;
                    };
                    if let Some(pos) = path.iter().position(|p| *p == n) {
                        return path[pos..].to_vec();
                    }
                    return path;
                }
            }
        }
    }

    /// Whether `candidate` is reachable from `of` through `needs` (cycles included:
    /// a task in a cycle is its own ancestor, and the cycle is reported separately).
    pub(super) fn is_upstream(&mut self, of: usize, candidate: usize) -> bool {
        if !self.ancestors.contains_key(&of) {
            let mut seen = HashSet::new();
            let mut stack: Vec<usize> = self.needs[of].clone();
            while let Some(n) = stack.pop() {
                if seen.insert(n) {
                    stack.extend(self.needs[n].iter().copied());
                }
            }
            self.ancestors.insert(of, seen);
        }
        self.ancestors
            .get(&of)
            .is_some_and(|a| a.contains(&candidate))
    }
}
