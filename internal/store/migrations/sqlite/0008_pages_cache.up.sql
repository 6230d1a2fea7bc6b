-- Hosted pages are cached in memory by every node (internal/pages, cache.go);
-- like short keys, every change of what a slug shows is written to
-- cache_invalidations, so other nodes drop it. View counter bumps do not touch
-- updated_at and so write nothing here.
CREATE TRIGGER pages_cache_ins AFTER INSERT ON pages BEGIN
    INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (NEW.id, '', NEW.slug);
END;
CREATE TRIGGER pages_cache_del AFTER DELETE ON pages BEGIN
    INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (OLD.id, '', OLD.slug);
END;
CREATE TRIGGER pages_cache_upd AFTER UPDATE ON pages
WHEN OLD.updated_at IS NOT NEW.updated_at OR OLD.slug IS NOT NEW.slug OR OLD.published IS NOT NEW.published BEGIN
    INSERT INTO cache_invalidations (resource_id, domain, key) VALUES (OLD.id, '', OLD.slug);
END;
