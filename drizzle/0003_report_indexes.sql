CREATE INDEX `leads_team_stage_closed_idx` ON `leads` (`team_id`,`stage`,`closed_at`,`budget`);--> statement-breakpoint
CREATE INDEX `leads_team_created_idx` ON `leads` (`team_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `leads_stage_closed_idx` ON `leads` (`stage`,`closed_at`,`budget`);--> statement-breakpoint
DROP INDEX `leads_team_stage_idx` ON `leads`;
