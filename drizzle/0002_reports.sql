CREATE TABLE `channel_costs` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`channel` varchar(64) NOT NULL,
	`period_start` datetime(3) NOT NULL,
	`period_end` datetime(3) NOT NULL,
	`amount` bigint NOT NULL,
	`note` varchar(255),
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `channel_costs_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `digest_runs` (
	`team_id` varchar(64) NOT NULL,
	`kind` varchar(16) NOT NULL,
	`period_key` varchar(16) NOT NULL,
	`late` int NOT NULL DEFAULT 0,
	`instance` varchar(64),
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `digest_runs_team_id_kind_period_key_pk` PRIMARY KEY(`team_id`,`kind`,`period_key`)
);
--> statement-breakpoint
CREATE INDEX `channel_costs_channel_idx` ON `channel_costs` (`channel`,`period_start`);