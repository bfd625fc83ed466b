CREATE TABLE `lead_notes` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`lead_id` bigint unsigned NOT NULL,
	`member_id` varchar(64) NOT NULL,
	`text` text NOT NULL,
	`fields` json NOT NULL,
	`platform` varchar(16) NOT NULL,
	`source_message_id` varchar(128) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `lead_notes_id` PRIMARY KEY(`id`),
	CONSTRAINT `lead_notes_source_uq` UNIQUE(`platform`,`source_message_id`)
);
--> statement-breakpoint
CREATE TABLE `member_focus` (
	`member_id` varchar(64) NOT NULL,
	`lead_id` bigint unsigned NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `member_focus_member_id` PRIMARY KEY(`member_id`)
);
--> statement-breakpoint
ALTER TABLE `leads` ADD `authority` varchar(128);--> statement-breakpoint
ALTER TABLE `leads` ADD `purchase_timeline` varchar(128);--> statement-breakpoint
ALTER TABLE `leads` ADD `won_amount` bigint;--> statement-breakpoint
ALTER TABLE `leads` ADD `lost_reason` varchar(64);--> statement-breakpoint
ALTER TABLE `leads` ADD `lost_detail` varchar(255);--> statement-breakpoint
ALTER TABLE `leads` ADD `stage_changed_at` datetime(3);--> statement-breakpoint
ALTER TABLE `leads` ADD `closed_at` datetime(3);--> statement-breakpoint
ALTER TABLE `cards` ADD `focus_member_id` varchar(64);--> statement-breakpoint
CREATE INDEX `lead_notes_lead_idx` ON `lead_notes` (`lead_id`,`id`);--> statement-breakpoint
CREATE INDEX `cards_focus_idx` ON `cards` (`focus_member_id`,`created_at`);