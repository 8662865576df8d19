-- A provider's notifications waiting for acknowledgement are found from the provider's own pending ones, not
-- by joining every notification waiting anywhere to every referral the provider ever had (at 5.45M events,
-- 11,000 referrals hashed for each read). A referral's provider never changes, so its appointments carry it.
ALTER TABLE caseload_appointments ADD COLUMN supplier_id uuid;
UPDATE caseload_appointments a SET supplier_id = r.supplier_id FROM caseload_referrals r
    WHERE r.referral_id = a.referral_id;
ALTER TABLE caseload_appointments ALTER COLUMN supplier_id SET NOT NULL;
CREATE INDEX caseload_appointments_pending_supplier_idx ON caseload_appointments (supplier_id, starts_at, appointment_id)
    WHERE notify AND NOT acknowledged;
