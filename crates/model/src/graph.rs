//! Drawing a workflow's graph: Mermaid, Graphviz DOT, or JSON.
//!
//! Every drawing shows the same facts: each task with its type, its condition (`if`),
//! its fan-out (`for_each`, with the concurrency limit), `on_error: continue`, and each
//! dependency edge, marked when the dependent's `join` is `any` or `all_done`. Tasks
//! appear in definition order, so the output is stable.

use serde_json::{Value, json};

use crate::definition::{Join, OnError, Task};
use crate::plan::Plan;

/// An output format for [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    /// A Mermaid flowchart.
    Mermaid,
    /// A Graphviz digraph.
    Dot,
    /// `{name, nodes, edges}` as JSON.
    Json,
}

/// Renders the graph of `plan`.
pub fn render(plan: &Plan, format: GraphFormat) -> String {
    match format {
        GraphFormat::Mermaid => mermaid(plan),
        GraphFormat::Dot => dot(plan),
        GraphFormat::Json => serde_json::to_string_pretty(&to_json(plan)).unwrap_or_default(),
    }
}

fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn condition_text(task: &Task) -> Option<String> {
    task.condition.as_ref().map(|c| match c {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn for_each_text(task: &Task) -> Option<String> {
    task.for_each.as_ref().map(|f| match f {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("{} items", items.len()),
        other => other.to_string(),
    })
}

/// The lines describing a task, beyond its name.
fn details(task: &Task) -> Vec<String> {
    let mut lines = vec![task.kind.clone()];
    if let Some(c) = condition_text(task) {
        lines.push(format!("if {}", shorten(&c, 48)));
    }
    if let Some(f) = for_each_text(task) {
        let limit = task
            .concurrency
            .map(|c| format!(" (concurrency {c})"))
            .unwrap_or_default();
        lines.push(format!("for_each {}{limit}", shorten(&f, 40)));
    }
    if task.on_error == OnError::Continue {
        lines.push("on_error: continue".into());
    }
    lines
}

fn join_label(join: Join) -> Option<&'static str> {
    match join {
        Join::All => None,
        Join::Any => Some("any"),
        Join::AllDone => Some("all_done"),
    }
}

fn tasks(plan: &Plan) -> impl Iterator<Item = (usize, &str, &Task)> {
    plan.workflow
        .tasks
        .iter()
        .enumerate()
        .map(|(i, (name, task))| (i, name.as_str(), task))
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

fn mermaid(plan: &Plan) -> String {
    let mut out = format!("---\ntitle: {}\n---\nflowchart LR\n", plan.workflow.name);
    for (_, name, task) in tasks(plan) {
        let label = std::iter::once(format!("<b>{name}</b>"))
            .chain(details(task).iter().map(|l| mermaid_escape(l)))
            .collect::<Vec<_>>()
            .join("<br/>");
        // Conditional tasks are hexagons, fan-outs are stacked boxes.
        let (open, close) = match (task.condition.is_some(), task.for_each.is_some()) {
            (true, _) => ("{{", "}}"),
            (false, true) => ("[[", "]]"),
            _ => ("[", "]"),
        };
        out.push_str(&format!("    {name}{open}\"{label}\"{close}\n"));
    }
    for (i, name, task) in tasks(plan) {
        for &n in &plan.tasks[i].needs {
            let from = plan.tasks[n].name.as_str();
            match join_label(task.join) {
                None => out.push_str(&format!("    {from} --> {name}\n")),
                Some(l) => out.push_str(&format!("    {from} -. {l} .-> {name}\n")),
            }
        }
    }
    out
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn dot(plan: &Plan) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n    rankdir=LR;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n",
        dot_escape(&plan.workflow.name)
    );
    for (_, name, task) in tasks(plan) {
        let label = std::iter::once(name.to_string())
            .chain(details(task))
            .map(|l| dot_escape(&l))
            .collect::<Vec<_>>()
            .join("\\n");
        let shape = match (task.condition.is_some(), task.for_each.is_some()) {
            (true, _) => ", shape=hexagon, style=\"\"",
            (false, true) => ", shape=box3d, style=\"\"",
            _ => "",
        };
        out.push_str(&format!("    \"{name}\" [label=\"{label}\"{shape}];\n"));
    }
    for (i, name, task) in tasks(plan) {
        for &n in &plan.tasks[i].needs {
            let from = &plan.tasks[n].name;
            match join_label(task.join) {
                None => out.push_str(&format!("    \"{from}\" -> \"{name}\";\n")),
                Some(l) => out.push_str(&format!(
                    "    \"{from}\" -> \"{name}\" [style=dashed, label=\"{l}\"];\n"
                )),
            }
        }
    }
    out.push_str("}\n");
    out
}

fn to_json(plan: &Plan) -> Value {
    let nodes: Vec<Value> = tasks(plan)
        .map(|(_, name, task)| {
            json!({
                "id": name,
                "type": task.kind,
                "description": task.description,
                "needs": task.needs,
                "if": condition_text(task),
                "for_each": task.for_each,
                "concurrency": task.concurrency,
                "join": task.join,
                "on_error": task.on_error,
            })
        })
        .collect();
    let edges: Vec<Value> = tasks(plan)
        .flat_map(|(i, name, task)| {
            plan.tasks[i]
                .needs
                .iter()
                .map(move |&n| json!({"from": plan.tasks[n].name, "to": name, "join": task.join}))
        })
        .collect();
    let order: Vec<&str> = plan
        .order
        .iter()
        .map(|&i| plan.tasks[i].name.as_str())
        .collect();
    json!({
        "name": plan.workflow.name,
        "nodes": nodes,
        "edges": edges,
        "order": order,
    })
}
