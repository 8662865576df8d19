-- The caseload: referrals and their delivery, Unpaid Work orders, accredited programme groups.

CREATE TABLE caseload_referrals (
    referral_id              uuid PRIMARY KEY,
    reference_number         text        NOT NULL UNIQUE,
    contract_id              uuid        NOT NULL,
    supplier_id              uuid        NOT NULL,
    practitioner_id          text        NOT NULL,
    region                   text,
    category                 text        NOT NULL,
    complexity               text        NOT NULL,
    crn                      text        NOT NULL,
    person_name              text        NOT NULL,
    status                   text        NOT NULL,
    caseworker_id            text,
    received_at              timestamptz NOT NULL,
    acknowledged_at          timestamptz,
    assigned_at              timestamptz,
    first_appointment_at     timestamptz,
    initial_assessment_at    timestamptz,
    action_plan_submitted_at timestamptz,
    action_plan_approved_at  timestamptz,
    sessions_planned         int,
    sessions_attended        int         NOT NULL DEFAULT 0,
    sessions_recorded        int         NOT NULL DEFAULT 0,
    rar_days                 int         NOT NULL DEFAULT 0,
    completion_deadline      date        NOT NULL,
    end_state                text,
    end_reason               text,
    concluded_at             timestamptz,
    outcomes_rated           int         NOT NULL DEFAULT 0,
    outcomes_achieved        int         NOT NULL DEFAULT 0,
    outcomes_partial         int         NOT NULL DEFAULT 0,
    version                  bigint      NOT NULL
);
CREATE INDEX caseload_referrals_supplier_idx ON caseload_referrals (supplier_id, status);
CREATE INDEX caseload_referrals_caseworker_idx ON caseload_referrals (caseworker_id);
CREATE INDEX caseload_referrals_practitioner_idx ON caseload_referrals (practitioner_id);
CREATE INDEX caseload_referrals_region_idx ON caseload_referrals (region);
CREATE INDEX caseload_referrals_contract_idx ON caseload_referrals (contract_id);

-- Every assignment, kept: reassignment never overwrites who held the case before.
CREATE TABLE caseload_assignments (
    referral_id            uuid        NOT NULL REFERENCES caseload_referrals (referral_id),
    caseworker_id          text        NOT NULL,
    previous_caseworker_id text,
    assigned_at            timestamptz NOT NULL,
    assigned_by            text        NOT NULL,
    position               bigint      NOT NULL,
    PRIMARY KEY (referral_id, position)
);

CREATE TABLE caseload_appointments (
    appointment_id  uuid PRIMARY KEY,
    referral_id     uuid        NOT NULL REFERENCES caseload_referrals (referral_id),
    kind            text        NOT NULL,
    starts_at       timestamptz NOT NULL,
    duration_minutes int        NOT NULL,
    delivery_method text        NOT NULL,
    session_type    text        NOT NULL,
    status          text        NOT NULL,
    reschedules     int         NOT NULL DEFAULT 0,
    attendance_recorded_at timestamptz,
    absence         text,
    concerns        text,
    notify          boolean     NOT NULL DEFAULT false,
    acknowledged    boolean     NOT NULL DEFAULT false,
    rar             boolean     NOT NULL DEFAULT false
);
CREATE INDEX caseload_appointments_referral_idx ON caseload_appointments (referral_id);
CREATE INDEX caseload_appointments_pending_idx ON caseload_appointments (referral_id) WHERE notify AND NOT acknowledged;

CREATE TABLE caseload_unpaid_work (
    order_id         uuid PRIMARY KEY,
    contract_id      uuid           NOT NULL,
    supplier_id      uuid           NOT NULL,
    crn              text           NOT NULL,
    person_name      text           NOT NULL,
    hours_ordered    int            NOT NULL,
    employed         boolean        NOT NULL,
    made_on          date           NOT NULL,
    allocated_on     date           NOT NULL,
    complete_by      date           NOT NULL,
    inducted_on      date,
    first_session_on date,
    hours_worked     numeric(6, 2)  NOT NULL DEFAULT 0,
    training_hours   numeric(6, 2)  NOT NULL DEFAULT 0,
    stand_downs      int            NOT NULL DEFAULT 0,
    completed_on     date,
    version          bigint         NOT NULL
);
CREATE INDEX caseload_unpaid_work_supplier_idx ON caseload_unpaid_work (supplier_id);

CREATE TABLE caseload_unpaid_work_sessions (
    order_id uuid          NOT NULL REFERENCES caseload_unpaid_work (order_id),
    position bigint        NOT NULL,
    worked_on date         NOT NULL,
    hours    numeric(5, 2) NOT NULL,
    kind     text          NOT NULL,
    PRIMARY KEY (order_id, position)
);

CREATE TABLE caseload_programme_groups (
    group_id           uuid PRIMARY KEY,
    programme          text   NOT NULL,
    contract_id        uuid   NOT NULL,
    supplier_id        uuid   NOT NULL,
    name               text   NOT NULL,
    mode               text   NOT NULL,
    participants       int    NOT NULL DEFAULT 0,
    sessions_scheduled int    NOT NULL DEFAULT 0,
    first_session_on   date,
    version            bigint NOT NULL
);
