-- Clarifications on the call-off's page (issue 17: a journey the API could not complete): the questions
-- invited suppliers asked, for the commissioners who answer them (and each supplier its own), and the
-- anonymised questions and answers published to every invited supplier. A near miss's uncovered areas
-- are kept beside its reasons. The worker rebuilds the catalogue from the log.
CREATE TABLE catalogue_clarification_questions (
    question_id uuid PRIMARY KEY,
    position    bigint      NOT NULL,  -- the asking event's: questions in the order asked
    call_off_id uuid        NOT NULL REFERENCES catalogue_call_offs (call_off_id),
    supplier_id uuid        NOT NULL,
    question    text        NOT NULL,
    asked_at    timestamptz NOT NULL,
    answered_at timestamptz
);
CREATE INDEX catalogue_clarification_questions_call_off_idx ON catalogue_clarification_questions (call_off_id, position);

CREATE TABLE catalogue_clarifications (
    position     bigint PRIMARY KEY,  -- the publishing event's: clarifications in the order published
    call_off_id  uuid        NOT NULL REFERENCES catalogue_call_offs (call_off_id),
    question_id  uuid,
    question     text        NOT NULL,
    answer       text        NOT NULL,
    published_at timestamptz NOT NULL
);
CREATE INDEX catalogue_clarifications_call_off_idx ON catalogue_clarifications (call_off_id, position);

ALTER TABLE catalogue_invitations ADD COLUMN uncovered text[] NOT NULL DEFAULT '{}';

UPDATE projection_positions SET position = 0 WHERE view_name = 'catalogue';
TRUNCATE catalogue_clarifications, catalogue_clarification_questions, catalogue_questionnaire_lots,
    catalogue_questionnaires, catalogue_tender_receipts, catalogue_tenders, catalogue_invitations,
    catalogue_call_offs, catalogue_contracts, catalogue_commissioners, catalogue_supplier_areas,
    catalogue_supplier_lots, catalogue_suppliers;
