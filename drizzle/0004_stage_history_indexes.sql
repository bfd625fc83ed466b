ALTER TABLE `lead_events` ADD `stage_from` varchar(32) GENERATED ALWAYS AS ((case when `type` = 'lead.stage_changed' then left(json_unquote(json_extract(`data`, '$.from')), 32) end)) VIRTUAL;--> statement-breakpoint
ALTER TABLE `lead_events` ADD `stage_to` varchar(32) GENERATED ALWAYS AS ((case when `type` = 'lead.stage_changed' then left(json_unquote(json_extract(`data`, '$.to')), 32) end)) VIRTUAL;--> statement-breakpoint
CREATE INDEX `lead_events_timeline_idx` ON `lead_events` (`lead_id`,`id`,`type`,`actor_type`,`created_at`);--> statement-breakpoint
CREATE INDEX `lead_events_type_lead_idx` ON `lead_events` (`type`,`lead_id`,`id`,`stage_from`,`stage_to`,`created_at`);--> statement-breakpoint
CREATE INDEX `leads_team_stage_changed_idx` ON `leads` (`team_id`,`stage_changed_at`,`created_at`);--> statement-breakpoint
DROP INDEX `lead_events_lead_idx` ON `lead_events`;