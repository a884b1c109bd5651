-- Up Migration
-- The full-text column was a stored generated column, and Postgres recomputes those on
-- every UPDATE of the row: tickets are updated three or four times by lifecycle events
-- (categorized, routed, acknowledged, status) that never touch the text, and each paid
-- for to_tsvector over the whole description. A trigger computes it on insert and only
-- when the title or description are written (or someone writes the column itself).
ALTER TABLE tickets ALTER COLUMN search DROP EXPRESSION;

CREATE FUNCTION tickets_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search := setweight(to_tsvector('simple', NEW.title), 'A') ||
                setweight(to_tsvector('simple', left(NEW.description, 200000)), 'B');
  RETURN NEW;
END
$$;

CREATE TRIGGER tickets_search_on_insert BEFORE INSERT ON tickets
  FOR EACH ROW EXECUTE FUNCTION tickets_search_document();
CREATE TRIGGER tickets_search_on_text_update BEFORE UPDATE OF title, description, search ON tickets
  FOR EACH ROW EXECUTE FUNCTION tickets_search_document();

-- Down Migration
DROP TRIGGER tickets_search_on_text_update ON tickets;
DROP TRIGGER tickets_search_on_insert ON tickets;
DROP FUNCTION tickets_search_document();
DROP INDEX tickets_search_idx;
ALTER TABLE tickets DROP COLUMN search;
ALTER TABLE tickets ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('simple', title), 'A') ||
  setweight(to_tsvector('simple', left(description, 200000)), 'B')) STORED;
CREATE INDEX tickets_search_idx ON tickets USING gin (search);
