-- The forward pipeline (issue 19, item 4; ADR 38): call-offs commissioners plan to run, as the market sees them.
-- No event before this migration is of a planning type, so the catalogue is not rebuilt.
CREATE TABLE catalogue_planned_call_offs (
    plan_id                 uuid PRIMARY KEY,
    lead_commissioner_id    uuid           NOT NULL,
    title                   text           NOT NULL,
    description             text           NOT NULL,
    need                    text,
    cohort                  text,
    geography               text           NOT NULL,
    award_type              text           NOT NULL,
    estimated_value         numeric(14, 2) NOT NULL,
    estimated_annual_volume int,
    volume_unit             text           NOT NULL,
    expected_publication    text           NOT NULL,  -- a month, "2027-01"
    initial_term_months     int,
    status                  text           NOT NULL,
    call_off_id             uuid,
    planned_at              timestamptz    NOT NULL,
    revised_at              timestamptz,
    revision_reason         text,
    version                 bigint         NOT NULL
);
CREATE INDEX catalogue_planned_call_offs_month_idx ON catalogue_planned_call_offs (status, expected_publication);
