//! Integration tests of the definition format, as a user meets it.

mod model {
    mod corpus;
    mod examples;
    mod props;
    mod rules;
    mod schema;
    mod tekton;
    mod templates;
    mod types;
}
