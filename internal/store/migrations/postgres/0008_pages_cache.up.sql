-- Hosted pages are cached in memory by every node (internal/pages, cache.go);
-- like short keys, every change of what a slug shows is written to
-- cache_invalidations, so other nodes drop it. View counter bumps do not touch
-- updated_at and so write nothing here.
CREATE FUNCTION pages_cache_invalidate() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (NEW.id, '', NEW.slug);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (OLD.id, '', OLD.slug);
    ELSIF OLD.updated_at IS DISTINCT FROM NEW.updated_at OR OLD.slug IS DISTINCT FROM NEW.slug
          OR OLD.published IS DISTINCT FROM NEW.published THEN
        INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (OLD.id, '', OLD.slug);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER pages_cache AFTER INSERT OR UPDATE OR DELETE ON pages
    FOR EACH ROW EXECUTE FUNCTION pages_cache_invalidate();
