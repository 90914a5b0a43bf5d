-- Problems, known errors and postmortems (SPEC §5); the Portuguese knowledge base (SPEC §4.2).

-- Portuguese search as people type: accents ignored, then stemmed (`não-conformidades` and
-- `nao conformidade` meet). A configuration, so `to_tsvector('pt_unaccent', …)` stays
-- immutable and can feed generated columns and indexes.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION pt_unaccent (COPY = portuguese);
ALTER TEXT SEARCH CONFIGURATION pt_unaccent
  ALTER MAPPING FOR hword, hword_part, word WITH unaccent, portuguese_stem;

CREATE TYPE problem_state AS ENUM (
  'new', 'root_cause_analysis', 'known_error', 'fix_in_progress', 'resolved', 'closed');

CREATE TABLE problems (
  id BIGSERIAL PRIMARY KEY,
  title TEXT NOT NULL CHECK (btrim(title) <> ''),
  description TEXT NOT NULL DEFAULT '',
  state problem_state NOT NULL DEFAULT 'new',
  -- The support catalog item (service) the problem affects, when known.
  item_id BIGINT REFERENCES support_items(id),
  owner_id BIGINT NOT NULL REFERENCES users(id),
  root_cause TEXT,
  workaround TEXT,
  -- The RDM carrying the permanent fix.
  fix_rdm_id BIGINT REFERENCES rdms(id),
  -- How a closed problem ended: fixed, or closed without a fix, each with its reason.
  close_kind TEXT CHECK (close_kind IN ('fixed', 'duplicate', 'risk_accepted', 'cancelled')),
  close_reason TEXT,
  duplicate_of BIGINT REFERENCES problems(id),
  workaround_communicated_at TIMESTAMPTZ,
  opened_at TIMESTAMPTZ NOT NULL,
  known_error_at TIMESTAMPTZ,
  resolved_at TIMESTAMPTZ,
  closed_at TIMESTAMPTZ,
  version INTEGER NOT NULL DEFAULT 1,
  updated_at TIMESTAMPTZ NOT NULL,
  CONSTRAINT problems_closed_kind CHECK ((state = 'closed') = (close_kind IS NOT NULL)),
  CONSTRAINT problems_duplicate CHECK ((close_kind = 'duplicate') = (duplicate_of IS NOT NULL)),
  CONSTRAINT problems_not_own_duplicate CHECK (duplicate_of <> id)
);
CREATE INDEX problems_state_idx ON problems (state, id DESC);
CREATE INDEX problems_fix_rdm_idx ON problems (fix_rdm_id) WHERE fix_rdm_id IS NOT NULL;

-- An incident belongs to at most one problem (its cause); linked from either side.
CREATE TABLE problem_incidents (
  problem_id BIGINT NOT NULL REFERENCES problems(id),
  ticket_id BIGINT NOT NULL CONSTRAINT problem_incidents_one_problem UNIQUE REFERENCES tickets(id),
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  linked_by BIGINT NOT NULL REFERENCES users(id),
  linked_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (problem_id, ticket_id)
);

-- A postmortem of a problem or of a major incident (blameless by default).
CREATE TABLE postmortems (
  id BIGSERIAL PRIMARY KEY,
  problem_id BIGINT CONSTRAINT postmortems_one_per_problem UNIQUE REFERENCES problems(id),
  ticket_id BIGINT CONSTRAINT postmortems_one_per_ticket UNIQUE REFERENCES tickets(id),
  title TEXT NOT NULL CHECK (btrim(title) <> ''),
  summary TEXT NOT NULL DEFAULT '',
  impact TEXT NOT NULL DEFAULT '',
  -- Contributing factors, in order.
  causes TEXT[] NOT NULL DEFAULT '{}',
  created_by BIGINT NOT NULL REFERENCES users(id),
  created_at TIMESTAMPTZ NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  updated_at TIMESTAMPTZ NOT NULL,
  CONSTRAINT postmortems_subject CHECK ((problem_id IS NULL) <> (ticket_id IS NULL))
);

-- Editable notes beside the timeline generated from the event log.
CREATE TABLE postmortem_notes (
  id BIGSERIAL PRIMARY KEY,
  postmortem_id BIGINT NOT NULL REFERENCES postmortems(id) ON DELETE CASCADE,
  at TIMESTAMPTZ NOT NULL,
  body TEXT NOT NULL CHECK (btrim(body) <> ''),
  author_id BIGINT NOT NULL REFERENCES users(id),
  written_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX postmortem_notes_postmortem_idx ON postmortem_notes (postmortem_id, at);

CREATE TABLE postmortem_actions (
  id BIGSERIAL PRIMARY KEY,
  postmortem_id BIGINT NOT NULL REFERENCES postmortems(id) ON DELETE CASCADE,
  title TEXT NOT NULL CHECK (btrim(title) <> ''),
  owner_id BIGINT NOT NULL REFERENCES users(id),
  due_on DATE NOT NULL,
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'in_progress', 'done', 'cancelled')),
  -- What carries the action: an RDM or a ticket (traceable).
  rdm_id BIGINT REFERENCES rdms(id),
  ticket_id BIGINT REFERENCES tickets(id),
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX postmortem_actions_postmortem_idx ON postmortem_actions (postmortem_id, id);

-- The knowledge base.
CREATE TYPE kb_kind AS ENUM ('known_error', 'solution_proposal', 'how_to');
CREATE TYPE kb_state AS ENUM ('draft', 'published', 'archived');

CREATE TABLE kb_articles (
  id BIGSERIAL PRIMARY KEY,
  kind kb_kind NOT NULL,
  state kb_state NOT NULL DEFAULT 'draft',
  title TEXT NOT NULL CHECK (btrim(title) <> ''),
  body TEXT NOT NULL CHECK (btrim(body) <> ''),
  -- The catalog item it is about, for suggestions on a ticket of that item.
  item_id BIGINT REFERENCES support_items(id),
  -- Where it came from: a problem's known error, a ticket's solution proposal.
  problem_id BIGINT REFERENCES problems(id),
  ticket_id BIGINT REFERENCES tickets(id),
  -- The team whose analysts see a solution proposal (SPEC §4.2); NULL: every analyst.
  team team,
  author_id BIGINT NOT NULL REFERENCES users(id),
  version INTEGER NOT NULL DEFAULT 1,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  published_at TIMESTAMPTZ,
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('pt_unaccent', title), 'A') || setweight(to_tsvector('pt_unaccent', body), 'B')) STORED,
  CONSTRAINT kb_articles_known_error_source CHECK (kind <> 'known_error' OR problem_id IS NOT NULL)
);
CREATE INDEX kb_articles_search_idx ON kb_articles USING GIN (search);
CREATE INDEX kb_articles_state_idx ON kb_articles (state, id DESC);
CREATE UNIQUE INDEX kb_articles_one_known_error ON kb_articles (problem_id) WHERE kind = 'known_error';

-- Every version of an article as it was written (the current one included).
CREATE TABLE kb_article_versions (
  article_id BIGINT NOT NULL REFERENCES kb_articles(id),
  version INTEGER NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  edited_by BIGINT NOT NULL REFERENCES users(id),
  edited_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (article_id, version)
);

-- An article used on a ticket; `solved`: the analyst says the article solved it.
CREATE TABLE kb_article_uses (
  article_id BIGINT NOT NULL REFERENCES kb_articles(id),
  ticket_id BIGINT NOT NULL REFERENCES tickets(id),
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  used_by BIGINT NOT NULL REFERENCES users(id),
  used_at TIMESTAMPTZ NOT NULL,
  solved BOOLEAN NOT NULL,
  PRIMARY KEY (article_id, ticket_id)
);
CREATE INDEX kb_article_uses_ticket_idx ON kb_article_uses (ticket_id);
CREATE INDEX kb_article_uses_used_at_idx ON kb_article_uses (used_at);

ALTER TYPE entity_kind ADD VALUE 'problem';
ALTER TYPE entity_kind ADD VALUE 'postmortem';
ALTER TYPE entity_kind ADD VALUE 'kb_article';
