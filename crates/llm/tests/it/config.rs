//! The configuration: the `[llm]` table, the environment overlay, and `build`'s checks.

use std::collections::HashMap;
use std::time::Duration;

use harmonia_llm::{Error, LlmConfig, ProviderKind, Secret, build};

#[derive(serde::Deserialize)]
struct File {
    llm: LlmConfig,
}

fn parse(toml_text: &str) -> Result<LlmConfig, String> {
    toml::from_str::<File>(toml_text)
        .map(|f| f.llm)
        .map_err(|e| e.to_string())
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

#[test]
fn reads_the_llm_table() {
    let cfg = parse(
        r#"
        [llm]
        provider = "Anthropic"
        model = "claude-x"
        api_key_env = "MY_KEY"
        base_url = "https://proxy.example/"
        timeout_secs = 30
        connect_timeout_secs = 3
        max_retries = 5
        max_tokens_cap = 2000
        "#,
    )
    .expect("valid");
    assert_eq!(
        cfg,
        LlmConfig {
            provider: ProviderKind::Anthropic,
            base_url: Some("https://proxy.example/".into()),
            model: "claude-x".into(),
            api_key: None,
            api_key_env: Some("MY_KEY".into()),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(3),
            max_retries: 5,
            max_tokens_cap: 2000,
        }
    );
    let defaults = parse("[llm]\nmodel = \"m\"").expect("valid");
    assert_eq!(
        defaults,
        LlmConfig {
            model: "m".into(),
            ..LlmConfig::default()
        }
    );
    assert_eq!(defaults.timeout, Duration::from_secs(120));
    assert_eq!((defaults.max_retries, defaults.max_tokens_cap), (2, 4096));
}

#[test]
fn a_literal_api_key_in_the_file_is_refused() {
    let err =
        parse("[llm]\nprovider = \"openai\"\napi_key = \"sk-in-clear\"").expect_err("refused");
    assert!(err.contains("api_key_env"), "{err}");
    assert!(err.contains("HARMONIA_LLM_API_KEY"), "{err}");
    assert!(!err.contains("sk-in-clear"), "{err}");
}

#[test]
fn an_unknown_provider_lists_the_valid_ones() {
    let expected =
        "unknown LLM provider `gemini`; expected one of: openai, anthropic, ollama, rhetor";
    let err = parse("[llm]\nprovider = \"gemini\"").expect_err("refused");
    assert!(err.contains(expected), "{err}");
    assert_eq!(
        "gemini".parse::<ProviderKind>(),
        Err(Error::Config(expected.into()))
    );
    let err = LlmConfig::from_env_overlay_with(None, env(&[("HARMONIA_LLM_PROVIDER", "gemini")]))
        .expect_err("refused");
    assert_eq!(
        err,
        Error::Config(format!("HARMONIA_LLM_PROVIDER: {expected}"))
    );
    assert!(
        parse("[llm]\nmodle = \"x\"").is_err(),
        "unknown keys are refused"
    );
}

#[test]
fn the_environment_overlays_the_file() {
    let file = parse("[llm]\nprovider = \"ollama\"\nmodel = \"llama\"\napi_key_env = \"MY_KEY\"")
        .expect("valid");
    let cfg = LlmConfig::from_env_overlay_with(
        Some(file),
        env(&[
            ("HARMONIA_LLM_PROVIDER", "openai"),
            ("HARMONIA_LLM_BASE_URL", "http://10.0.0.1:8080/v1"),
            ("HARMONIA_LLM_MODEL", "qwen"),
            ("HARMONIA_LLM_API_KEY", "sk-env"),
            ("HARMONIA_LLM_TIMEOUT_SECS", "45"),
            ("MY_KEY", "sk-from-my-key"),
        ]),
    )
    .expect("valid");
    assert_eq!(cfg.provider, ProviderKind::OpenAi);
    assert_eq!(cfg.base_url.as_deref(), Some("http://10.0.0.1:8080/v1"));
    assert_eq!(cfg.model, "qwen");
    assert_eq!(
        cfg.api_key,
        Some(Secret::new("sk-env")),
        "HARMONIA_LLM_API_KEY wins"
    );
    assert_eq!(cfg.timeout, Duration::from_secs(45));
    assert!(!format!("{cfg:?}").contains("sk-env"));
}

#[test]
fn api_key_env_names_the_variable_holding_the_key() {
    let file = parse("[llm]\nprovider = \"anthropic\"\nmodel = \"c\"\napi_key_env = \"MY_KEY\"")
        .expect("valid");
    let cfg = LlmConfig::from_env_overlay_with(Some(file.clone()), env(&[("MY_KEY", "sk-mine")]))
        .expect("valid");
    assert_eq!(cfg.api_key, Some(Secret::new("sk-mine")));

    let err = LlmConfig::from_env_overlay_with(Some(file), env(&[])).expect_err("unset");
    assert!(
        matches!(&err, Error::Config(m) if m.contains("`MY_KEY`")),
        "{err}"
    );
}

#[test]
fn rhetor_defaults_to_rhetor_url() {
    let cfg = LlmConfig::from_env_overlay_with(
        None,
        env(&[
            ("HARMONIA_LLM_PROVIDER", "rhetor"),
            ("RHETOR_URL", "http://rhetor:9003"),
        ]),
    )
    .expect("valid");
    assert_eq!(cfg.effective_base_url(), "http://rhetor:9003");
    let plain = LlmConfig::from_env_overlay_with(None, env(&[("HARMONIA_LLM_PROVIDER", "rhetor")]))
        .expect("valid");
    assert_eq!(plain.effective_base_url(), "http://localhost:8003");
    assert!(build(&plain).is_ok(), "Rhetor needs no model");
}

#[test]
fn empty_variables_count_as_unset_and_bad_numbers_are_refused() {
    let cfg =
        LlmConfig::from_env_overlay_with(None, env(&[("HARMONIA_LLM_MODEL", " ")])).expect("valid");
    assert_eq!(cfg, LlmConfig::default());
    let err = LlmConfig::from_env_overlay_with(None, env(&[("HARMONIA_LLM_TIMEOUT_SECS", "2m")]))
        .expect_err("refused");
    assert!(
        matches!(&err, Error::Config(m) if m.contains("HARMONIA_LLM_TIMEOUT_SECS")),
        "{err}"
    );
}

#[test]
fn build_reports_every_problem() {
    let cfg = LlmConfig {
        base_url: Some("ftp://x".into()),
        max_tokens_cap: 0,
        ..LlmConfig::default()
    };
    let Err(Error::Config(m)) = build(&cfg) else {
        panic!("expected a configuration error");
    };
    assert!(m.contains("no model"), "{m}");
    assert!(m.contains("not an http(s) URL"), "{m}");
    assert!(m.contains("max_tokens_cap"), "{m}");
}
