-- Templates: a stable id per name, and immutable versions with change notes.
--
-- Like workflows (see 0001 and 0002): a deleted template keeps its versions (workflows
-- made from one record its name and version) but disappears from listings and from
-- lookups without a version; storing or importing it again brings it back.
--
-- `content` is the template's canonical form (compact JSON): versions are compared by
-- it, never by `source`, the text as it was sent. `tags` is a JSON list (in order), and
-- also one row per tag in `template_tags`, for listing by tag with a plain join.
-- Portable as the other migrations: TEXT, INTEGER and BIGINT columns only.
CREATE TABLE templates (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    deleted_at BIGINT
);

CREATE TABLE template_versions (
    template_id TEXT NOT NULL REFERENCES templates (id),
    version INTEGER NOT NULL,
    description TEXT,
    tags TEXT NOT NULL,
    category TEXT,
    note TEXT,
    content TEXT NOT NULL,
    source TEXT NOT NULL,
    format TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (template_id, version)
);

CREATE TABLE template_tags (
    template_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (template_id, version, tag),
    FOREIGN KEY (template_id, version) REFERENCES template_versions (template_id, version)
);

CREATE INDEX template_tags_by_tag ON template_tags (tag, template_id, version);
