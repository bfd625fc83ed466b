ALTER TABLE `leads` ADD `retain_until` datetime(3);--> statement-breakpoint
ALTER TABLE `leads` ADD `anonymised_at` datetime(3);--> statement-breakpoint
CREATE INDEX `leads_retention_idx` ON `leads` (`anonymised_at`,`retain_until`);