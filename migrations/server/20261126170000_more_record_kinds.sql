-- Onboarding sessions, reviews, requests, request events and RCAs sync as records too. The
-- list of kinds lives in rapport_domain::sync::EntityKind (the server refuses any other
-- before it reaches the table), so the table no longer repeats it.
ALTER TABLE records DROP CONSTRAINT records_entity_check;
