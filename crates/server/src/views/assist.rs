//! Views of the assistant's answers (`/api/assist/...`): a drafted workflow, a
//! diagnosis with its patch, what applying a patch did, an optimization report, a
//! chat answer, and whether a model is configured. Bodies of the requests too.

use harmonia_app::assist::{self, Applied, ChatReply, ChatTurn, Diagnosis, Draft, Optimization};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::designer::DiagnosticView;

/// Whether the assistant has a model.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"configured": true, "provider": "openai", "model": "smollm2", "how": null}))]
pub struct AssistStatus {
    /// Whether a model is configured (without, drafting and chat answer `503`;
    /// diagnosis and optimization answer their deterministic part).
    pub configured: bool,
    /// The provider (`openai`, `anthropic`, `ollama`, `rhetor`), when configured.
    pub provider: Option<String>,
    /// The model, when configured.
    pub model: Option<String>,
    /// How to configure one, when none is.
    pub how: Option<String>,
}

impl AssistStatus {
    /// The status of `assist`.
    pub fn of(a: &harmonia_app::Assist) -> AssistStatus {
        match a.model() {
            Some((provider, model)) => AssistStatus {
                configured: true,
                provider: Some(provider),
                model: Some(model),
                how: None,
            },
            None => AssistStatus {
                configured: false,
                provider: None,
                model: None,
                how: Some(assist::NO_MODEL.to_string()),
            },
        }
    }
}

/// What to draft.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "Every hour, fetch https://example.com/status and keep the body's `state`", "max_rounds": 3}))]
pub struct DraftBody {
    /// The workflow, in plain language (at most 4,000 characters, not only spaces).
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    pub description: String,
    /// Example inputs: the draft gets an `inputs` schema with these as defaults.
    #[schema(value_type = Option<Object>)]
    pub inputs_example: Option<Value>,
    /// Drafts to allow, the first and its repairs (1 to 10; default 3).
    #[schema(minimum = 1, maximum = 10)]
    pub max_rounds: Option<u32>,
}

/// Tokens used.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokensView {
    /// Prompt tokens.
    pub prompt: u64,
    /// Completion tokens.
    pub completion: u64,
}

impl From<assist::Tokens> for TokensView {
    fn from(t: assist::Tokens) -> TokensView {
        TokensView {
            prompt: t.prompt,
            completion: t.completion,
        }
    }
}

/// A drafted workflow: valid, or the last draft with what is wrong.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"valid": true, "yaml": "name: status-check\ntasks:\n  fetch:\n    type: http\n    with:\n      method: GET\n      url: https://example.com/status\n", "rounds": 2, "history": [1, 0], "repairs": [], "diagnostics": [], "tokens": {"prompt": 812, "completion": 140}, "model": "smollm2", "elapsed_ms": 5210}))]
pub struct DraftView {
    /// Whether `yaml` validates (never true for a definition that does not).
    pub valid: bool,
    /// The definition.
    pub yaml: String,
    /// Drafts asked for.
    pub rounds: u32,
    /// The error count of each round's draft, in order (0: valid).
    pub history: Vec<usize>,
    /// What Harmonia changed in the draft itself (a need naming no task left out).
    pub repairs: Vec<String>,
    /// What is still wrong (warnings may remain on a valid draft).
    pub diagnostics: Vec<DiagnosticView>,
    /// Tokens used over all rounds.
    pub tokens: TokensView,
    /// The model.
    pub model: String,
    /// Time taken, in milliseconds.
    pub elapsed_ms: u64,
}

impl From<Draft> for DraftView {
    fn from(d: Draft) -> DraftView {
        DraftView {
            valid: d.valid,
            yaml: d.yaml,
            rounds: d.rounds,
            history: d.history,
            repairs: d.repairs,
            diagnostics: d
                .diagnostics
                .iter()
                .map(DiagnosticView::from_diagnostic)
                .collect(),
            tokens: d.tokens.into(),
            model: d.model,
            elapsed_ms: d.elapsed_ms,
        }
    }
}

/// A diagnosis of a failed execution.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DiagnosisView {
    /// The execution.
    #[schema(value_type = String, format = Uuid)]
    pub execution: String,
    /// What happened.
    pub summary: String,
    /// Why.
    pub cause: String,
    /// Events that show it: `{seq, kind, why, by}` (`by`: `harmonia` or `model`).
    #[schema(value_type = Vec<Object>)]
    pub evidence: Vec<Value>,
    /// What to do.
    pub suggestions: Vec<String>,
    /// A changed definition that validates, when there is one: `{yaml, diff, changes:
    /// [{path, from, to, why}]}`. Apply it with `POST .../diagnose/apply`.
    #[schema(value_type = Option<Object>)]
    pub patch: Option<Value>,
    /// The model that explained, or null (then the text is Harmonia's own).
    pub model: Option<String>,
    /// Tokens used.
    pub tokens: TokensView,
}

impl From<Diagnosis> for DiagnosisView {
    fn from(d: Diagnosis) -> DiagnosisView {
        DiagnosisView {
            execution: d.execution.to_string(),
            summary: d.summary,
            cause: d.cause,
            evidence: d.evidence,
            suggestions: d.suggestions,
            patch: d.patch.and_then(|p| serde_json::to_value(p).ok()),
            model: d.model,
            tokens: d.tokens.into(),
        }
    }
}

/// A patch to apply.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    /// The definition to store (a diagnosis's `patch.yaml`, edited or not); it must
    /// keep the workflow's name.
    pub yaml: String,
    /// Only say what the retry would run; store nothing, start nothing.
    #[serde(default)]
    pub preview: bool,
}

/// What applying a patch did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppliedView {
    /// The version stored (absent on a preview).
    pub version: Option<u32>,
    /// The retry's new execution (absent on a preview).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub execution_id: Option<String>,
    /// Tasks that run again.
    pub rerun: Vec<String>,
    /// Tasks whose outputs are reused.
    pub reused: Vec<String>,
}

impl From<Applied> for AppliedView {
    fn from(a: Applied) -> AppliedView {
        AppliedView {
            version: a.version,
            execution_id: a.retry.map(|e| e.to_string()),
            rerun: a.plan.rerun,
            reused: a.plan.reused,
        }
    }
}

/// An optimization report: the critical path and findings (Harmonia's), and the
/// model's explanation when one is configured.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OptimizationView {
    /// The workflow.
    pub workflow: String,
    /// The version analyzed.
    pub version: Option<u32>,
    /// `{tasks, basis: definition|timings, estimated_ms}`.
    #[schema(value_type = Object)]
    pub critical_path: Value,
    /// Each finding: `{kind, severity, path, tasks, message, suggestion, evidence}`.
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Value>,
    /// How many past executions gave timings.
    pub executions_sampled: usize,
    /// `{summary, ranking: [{finding, why}]}` from the model, or null.
    #[schema(value_type = Option<Object>)]
    pub explanation: Option<Value>,
    /// The model, or null.
    pub model: Option<String>,
    /// Tokens used.
    pub tokens: TokensView,
}

impl From<Optimization> for OptimizationView {
    fn from(o: Optimization) -> OptimizationView {
        let v = serde_json::to_value(&o).unwrap_or(Value::Null);
        OptimizationView {
            workflow: o.workflow,
            version: o.version,
            critical_path: v.get("critical_path").cloned().unwrap_or(Value::Null),
            findings: v
                .get("findings")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            executions_sampled: o.executions_sampled,
            explanation: v.get("explanation").cloned().filter(|e| !e.is_null()),
            model: o.model,
            tokens: o.tokens.into(),
        }
    }
}

/// A conversation to answer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"messages": [{"role": "user", "content": "Why did the fetch task fail?"}], "execution_id": "0190b6c0-3f8e-7c4e-9d2b-5a1f0e2d7c11"}))]
pub struct ChatBody {
    /// The conversation so far, the user's question last (at most 20 messages of
    /// 4,000 characters).
    #[schema(min_items = 1, max_items = 20)]
    pub messages: Vec<ChatTurnView>,
    /// An execution the conversation is about (its facts are given to the model).
    pub execution_id: Option<String>,
    /// A stored workflow the conversation is about.
    pub workflow: Option<String>,
}

/// One message.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatTurnView {
    /// `user` or `assistant` (the last message is the user's).
    #[schema(pattern = "^(user|assistant)$")]
    pub role: String,
    /// What was said (at most 4,000 characters).
    #[schema(max_length = 4000)]
    pub content: String,
}

impl From<ChatTurnView> for ChatTurn {
    fn from(t: ChatTurnView) -> ChatTurn {
        ChatTurn {
            role: t.role,
            content: t.content,
        }
    }
}

/// The model's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatReplyView {
    /// What it said.
    pub content: String,
    /// The model.
    pub model: String,
    /// Tokens used.
    pub tokens: TokensView,
    /// How many characters of facts it was given.
    pub context_chars: usize,
}

impl From<ChatReply> for ChatReplyView {
    fn from(r: ChatReply) -> ChatReplyView {
        ChatReplyView {
            content: r.content,
            model: r.model,
            tokens: r.tokens.into(),
            context_chars: r.context_chars,
        }
    }
}
