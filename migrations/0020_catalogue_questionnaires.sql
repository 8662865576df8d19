-- Questionnaires as the Authority assesses them and their supplier follows them (issue 17): each with the
-- lots it sought and their state, and whether any lot still awaits assessment, so that the Authority's
-- worklist reads the waiting ones oldest first from an index. The worker rebuilds the catalogue from the log.
CREATE TABLE catalogue_questionnaires (
    questionnaire_id uuid PRIMARY KEY,
    supplier_id      uuid        NOT NULL REFERENCES catalogue_suppliers (supplier_id),
    submitted_at     timestamptz NOT NULL,
    declared_areas   text[]      NOT NULL,  -- as declared with the questionnaire
    state            text        NOT NULL,  -- awaiting-assessment, assessed or withdrawn
    settled_at       timestamptz            -- when its last lot awaiting assessment was assessed or withdrawn
);
CREATE INDEX catalogue_questionnaires_supplier_idx ON catalogue_questionnaires (supplier_id, submitted_at);
CREATE INDEX catalogue_questionnaires_state_idx ON catalogue_questionnaires (state, submitted_at, questionnaire_id);

CREATE TABLE catalogue_questionnaire_lots (
    questionnaire_id uuid NOT NULL REFERENCES catalogue_questionnaires (questionnaire_id),
    category         text NOT NULL,
    status           text NOT NULL,  -- pending, passed, failed or withdrawn (before its assessment)
    reason           text,           -- the assessment's, or the withdrawal's
    assessed_at      timestamptz,
    withdrawn_at     timestamptz,
    PRIMARY KEY (questionnaire_id, category)
);

UPDATE projection_positions SET position = 0 WHERE view_name = 'catalogue';
TRUNCATE catalogue_questionnaire_lots, catalogue_questionnaires, catalogue_tender_receipts, catalogue_tenders,
    catalogue_invitations, catalogue_call_offs, catalogue_contracts, catalogue_commissioners,
    catalogue_supplier_areas, catalogue_supplier_lots, catalogue_suppliers;
