CREATE TABLE `lead_claimers` (
	`lead_id` bigint unsigned NOT NULL,
	`member_id` varchar(64) NOT NULL,
	CONSTRAINT `lead_claimers_lead_id_member_id_pk` PRIMARY KEY(`lead_id`,`member_id`)
);
--> statement-breakpoint
CREATE TABLE `report_events` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`lead_id` bigint unsigned NOT NULL,
	`team_id` varchar(64),
	`type` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`stage_left` varchar(32),
	`stay_micros` bigint,
	`ladder` varchar(32),
	CONSTRAINT `report_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
DROP INDEX `leads_team_stage_closed_idx` ON `leads`;--> statement-breakpoint
DROP INDEX `leads_team_created_idx` ON `leads`;--> statement-breakpoint
ALTER TABLE `leads` ADD `stages_reached` smallint unsigned DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `leads` ADD `first_assigned_at` datetime(3);--> statement-breakpoint
ALTER TABLE `leads` ADD `first_assignee_id` varchar(64);--> statement-breakpoint
ALTER TABLE `leads` ADD `last_offered_at` datetime(3);--> statement-breakpoint
ALTER TABLE `leads` ADD `first_claimed_at` datetime(3);--> statement-breakpoint
ALTER TABLE `leads` ADD `first_claimed_by` varchar(64);--> statement-breakpoint
ALTER TABLE `leads` ADD `first_claim_offered_at` datetime(3);--> statement-breakpoint
ALTER TABLE `leads` ADD `first_response_at` datetime(3);--> statement-breakpoint
ALTER TABLE `leads` ADD `first_response_by` varchar(64);--> statement-breakpoint
-- Backfill of the report rollups for the rows written before them (src/leads/timeline-rollups.ts
-- keeps them from now on, with the same definitions; test/reports/rollups.test.ts compares the two).
-- Stages named by stage changes, one bit per stage in STAGES order (new 1 … nurture 64).
UPDATE `leads` l
JOIN (
  SELECT e.lead_id,
    BIT_OR((CASE e.stage_from WHEN 'new' THEN 1 WHEN 'contacted' THEN 2 WHEN 'qualified' THEN 4 WHEN 'opportunity' THEN 8 WHEN 'won' THEN 16 WHEN 'lost' THEN 32 WHEN 'nurture' THEN 64 ELSE 0 END)
      | (CASE e.stage_to WHEN 'new' THEN 1 WHEN 'contacted' THEN 2 WHEN 'qualified' THEN 4 WHEN 'opportunity' THEN 8 WHEN 'won' THEN 16 WHEN 'lost' THEN 32 WHEN 'nurture' THEN 64 ELSE 0 END)) AS reached
  FROM `lead_events` e
  WHERE e.type = 'lead.stage_changed'
  GROUP BY e.lead_id
) s ON s.lead_id = l.id
SET l.stages_reached = s.reached;
--> statement-breakpoint
-- The first offer, claim and member follow-up of each lead (lowest event id), and its latest offer.
UPDATE `leads` l
JOIN (
  SELECT e.lead_id,
    MIN(CASE WHEN e.type = 'lead.assigned' THEN e.id END) AS first_assigned_id,
    MAX(CASE WHEN e.type IN ('lead.assigned', 'lead.rerouted') THEN e.id END) AS last_offer_id,
    MIN(CASE WHEN e.type = 'lead.claimed' THEN e.id END) AS first_claim_id,
    MIN(CASE WHEN e.type IN ('lead.note_added', 'lead.followed_up', 'lead.stage_changed') AND e.actor_type = 'member' THEN e.id END) AS first_response_id
  FROM `lead_events` e
  WHERE e.type IN ('lead.assigned', 'lead.rerouted', 'lead.claimed', 'lead.note_added', 'lead.followed_up', 'lead.stage_changed')
  GROUP BY e.lead_id
) p ON p.lead_id = l.id
LEFT JOIN `lead_events` fa ON fa.id = p.first_assigned_id
LEFT JOIN `lead_events` lo ON lo.id = p.last_offer_id
LEFT JOIN `lead_events` fc ON fc.id = p.first_claim_id
LEFT JOIN `lead_events` fr ON fr.id = p.first_response_id
SET l.first_assigned_at = fa.created_at,
  l.first_assignee_id = JSON_UNQUOTE(JSON_EXTRACT(fa.data, '$.memberId')),
  l.last_offered_at = lo.created_at,
  l.first_claimed_at = fc.created_at,
  l.first_claimed_by = fc.actor_id,
  l.first_response_at = fr.created_at,
  l.first_response_by = fr.actor_id;
--> statement-breakpoint
-- The offer each first claim answered: the latest offer before it.
UPDATE `leads` l
SET l.first_claim_offered_at = (
  SELECT o.created_at FROM `lead_events` o
  WHERE o.lead_id = l.id AND o.type IN ('lead.assigned', 'lead.rerouted')
    AND o.id < (SELECT MIN(c.id) FROM `lead_events` c WHERE c.lead_id = l.id AND c.type = 'lead.claimed')
  ORDER BY o.id DESC LIMIT 1)
WHERE l.first_claimed_at IS NOT NULL;
--> statement-breakpoint
-- Who has claimed each lead (a second claim by the same member is the same row).
INSERT INTO `lead_claimers` (`lead_id`, `member_id`)
SELECT e.lead_id, e.actor_id FROM `lead_events` e
WHERE e.type = 'lead.claimed' AND e.actor_id IS NOT NULL
ON DUPLICATE KEY UPDATE `member_id` = `lead_claimers`.`member_id`;
--> statement-breakpoint
-- The events the period figures count, with the lead's team; a stage change with its stay (from the
-- lead's previous stage change, or its creation).
INSERT INTO `report_events` (`lead_id`, `team_id`, `type`, `created_at`, `stage_left`, `stay_micros`, `ladder`)
SELECT e.lead_id, l.team_id, e.type, e.created_at, e.stage_from,
  CASE WHEN e.type = 'lead.stage_changed' THEN TIMESTAMPDIFF(MICROSECOND,
    COALESCE(
      (SELECT p.created_at FROM `lead_events` p
        WHERE p.lead_id = e.lead_id AND p.type = 'lead.stage_changed' AND p.id < e.id
        ORDER BY p.id DESC LIMIT 1),
      l.created_at),
    e.created_at) END,
  CASE WHEN e.type IN ('sla.reminded', 'sla.escalated') THEN LEFT(JSON_UNQUOTE(JSON_EXTRACT(e.data, '$.ladder')), 32) END
FROM `lead_events` e
JOIN `leads` l ON l.id = e.lead_id
WHERE e.type IN ('lead.stage_changed', 'sla.reminded', 'sla.escalated', 'sla.claim_missed', 'lead.recycled');
--> statement-breakpoint
-- The indexes last, built once over the filled-in rows.
CREATE INDEX `report_events_team_idx` ON `report_events` (`team_id`,`type`,`created_at`,`lead_id`,`stage_left`,`stay_micros`,`ladder`);--> statement-breakpoint
CREATE INDEX `report_events_type_idx` ON `report_events` (`type`,`created_at`,`lead_id`,`stage_left`,`stay_micros`,`ladder`);--> statement-breakpoint
CREATE INDEX `report_events_lead_idx` ON `report_events` (`lead_id`);--> statement-breakpoint
CREATE INDEX `leads_team_stage_closed_idx` ON `leads` (`team_id`,`stage`,`closed_at`,`budget`,`stages_reached`);--> statement-breakpoint
CREATE INDEX `leads_team_created_idx` ON `leads` (`team_id`,`created_at`,`source_id`,`stage`,`stages_reached`,`won_amount`,`grade`,`first_assignee_id`,`first_claimed_by`,`first_claimed_at`,`first_claim_offered_at`,`first_response_by`,`first_response_at`);