DROP TABLE kb_article_uses, kb_article_versions, kb_articles, postmortem_actions, postmortem_notes,
  postmortems, problem_incidents, problems;
DROP TYPE kb_state;
DROP TYPE kb_kind;
DROP TYPE problem_state;
DROP TEXT SEARCH CONFIGURATION pt_unaccent;
-- entity_kind keeps its values: PostgreSQL cannot drop an enum value.
