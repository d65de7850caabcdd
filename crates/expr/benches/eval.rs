//! Compiling and evaluating a typical mapping expression.
//!
//! Run with `cargo bench -p harmonia-expr --bench eval`; criterion prints the time per
//! iteration (the median of its samples) for compiling the expression once, evaluating
//! the compiled expression once, and evaluating a `with:` block with two expressions.
//!
//! It runs as the `harmonia` binary does: under jemalloc (whose counters bound an
//! evaluation's memory) and on a thread with a large stack (the binary's threads have
//! one, so evaluation never needs to allocate a stack segment).

use std::hint::black_box;

use criterion::{Criterion, criterion_group};
use harmonia_expr::{Context, Limits, Template, Val, ValueTemplate, Var, VarSet};
use serde_json::json;

const MAPPING: &str = r#"${ {id: $item.id, name: ($item.first + " " + $item.last), tags: [$item.tags[] | ascii_upcase], total: ($item.prices | add), hot: ($tasks.weather.output.temp > 30)} }"#;

fn context() -> Context {
    Context::new()
        .with(
            Var::Item,
            Val::from(json!({"id": 42, "first": "Ada", "last": "Lovelace", "tags": ["math", "engines"], "prices": [1.5, 2.25, 3]})),
        )
        .with(Var::Index, Val::from(json!(3)))
        .with(
            Var::Tasks,
            Val::from(json!({"weather": {"output": {"temp": 31, "city": "Rome"}, "status": "succeeded"}})),
        )
        .with(Var::Inputs, Val::from(json!({"base": "http://127.0.0.1:9000"})))
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let ctx = context();

    c.bench_function("compile mapping expression", |b| {
        b.iter(|| Template::compile(black_box(MAPPING), VarSet::ALL).map(|_| ()))
    });

    let t = Template::compile(MAPPING, VarSet::ALL).expect("compiles");
    c.bench_function("evaluate mapping expression", |b| {
        b.iter(|| t.eval(black_box(&ctx), &limits).map(|_| ()))
    });
    c.bench_function("evaluate mapping expression to JSON", |b| {
        b.iter(|| {
            t.eval(black_box(&ctx), &limits)
                .and_then(|v| v.to_json(usize::MAX))
        })
    });

    let with = ValueTemplate::compile(
        &json!({"method": "GET", "url": "${ $inputs.base }/items/${ $item.id }", "headers": {"Accept": "application/json"}}),
        VarSet::ALL,
    )
    .expect("compiles");
    c.bench_function("evaluate http with-block", |b| {
        b.iter(|| with.eval(black_box(&ctx), &limits).map(|_| ()))
    });
}

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

criterion_group!(benches, bench);

fn main() {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            benches();
            Criterion::default().configure_from_args().final_summary();
        })
        .expect("spawns the benchmark thread")
        .join()
        .expect("the benchmarks ran");
}
