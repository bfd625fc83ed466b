CREATE TABLE `activities` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`lead_id` bigint unsigned NOT NULL,
	`type` varchar(64) NOT NULL,
	`source_id` varchar(64),
	`occurred_at` datetime(3) NOT NULL,
	`data` json NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `activities_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`source_id` varchar(64) NOT NULL,
	`idem_key` varchar(191) NOT NULL,
	`request_hash` char(64) NOT NULL,
	`status_code` smallint NOT NULL,
	`response` json NOT NULL,
	`lead_id` bigint unsigned,
	`created_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `idempotency_keys_source_id_idem_key_pk` PRIMARY KEY(`source_id`,`idem_key`)
);
--> statement-breakpoint
CREATE TABLE `lead_events` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`lead_id` bigint unsigned NOT NULL,
	`type` varchar(64) NOT NULL,
	`actor_type` varchar(16) NOT NULL,
	`actor_id` varchar(64),
	`data` json NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `lead_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `lead_identities` (
	`kind` varchar(24) NOT NULL,
	`value` varchar(191) NOT NULL,
	`lead_id` bigint unsigned NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `lead_identities_kind_value_pk` PRIMARY KEY(`kind`,`value`)
);
--> statement-breakpoint
CREATE TABLE `leads` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`source_id` varchar(64) NOT NULL,
	`stage` varchar(16) NOT NULL DEFAULT 'new',
	`team_id` varchar(64),
	`assignee_id` varchar(64),
	`assigned_at` datetime(3),
	`owner_id` varchar(64),
	`claimed_at` datetime(3),
	`version` int NOT NULL DEFAULT 1,
	`name` varchar(128),
	`phone` varchar(32),
	`email` varchar(254),
	`wechat` varchar(64),
	`company` varchar(255),
	`company_key` varchar(191),
	`title` varchar(128),
	`province` varchar(64),
	`city` varchar(64),
	`industry` varchar(64),
	`company_size` int,
	`company_size_text` varchar(64),
	`budget` bigint,
	`budget_text` varchar(64),
	`need` text,
	`campaign` varchar(255),
	`keyword` varchar(255),
	`landing_page` varchar(2048),
	`remark` text,
	`external_id` varchar(191),
	`tags` json NOT NULL,
	`custom` json NOT NULL,
	`score` int NOT NULL DEFAULT 0,
	`fit_score` int NOT NULL DEFAULT 0,
	`behaviour_score` int NOT NULL DEFAULT 0,
	`grade` char(1) NOT NULL DEFAULT 'C',
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `leads_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `rejected_payloads` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`source_id` varchar(64),
	`status` varchar(16) NOT NULL DEFAULT 'pending',
	`reason_code` varchar(64) NOT NULL,
	`issues` json NOT NULL,
	`content_type` varchar(128),
	`idempotency_key` varchar(191),
	`request_id` varchar(64),
	`body` mediumblob NOT NULL,
	`replay_count` int NOT NULL DEFAULT 0,
	`lead_id` bigint unsigned,
	`received_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `rejected_payloads_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `source_api_keys` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`source_id` varchar(64) NOT NULL,
	`key_hash` char(64) NOT NULL,
	`key_prefix` varchar(16) NOT NULL,
	`label` varchar(128),
	`created_at` datetime(3) NOT NULL,
	`revoked_at` datetime(3),
	CONSTRAINT `source_api_keys_id` PRIMARY KEY(`id`),
	CONSTRAINT `source_api_keys_hash_uq` UNIQUE(`key_hash`)
);
--> statement-breakpoint
CREATE TABLE `card_update_tokens` (
	`card_id` varchar(128) NOT NULL,
	`user_id` varchar(64) NOT NULL,
	`token` varchar(255) NOT NULL,
	`issued_at` datetime(3) NOT NULL,
	CONSTRAINT `card_update_tokens_card_id_user_id_pk` PRIMARY KEY(`card_id`,`user_id`)
);
--> statement-breakpoint
CREATE TABLE `cards` (
	`id` varchar(128) NOT NULL,
	`lead_id` bigint unsigned NOT NULL,
	`template` varchar(64) NOT NULL,
	`platform` varchar(16) NOT NULL,
	`recipients` json NOT NULL,
	`status` varchar(16) NOT NULL DEFAULT 'open',
	`created_at` datetime(3) NOT NULL,
	`settled_at` datetime(3),
	CONSTRAINT `cards_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `id_blocks` (
	`name` varchar(32) NOT NULL,
	`next_id` bigint unsigned NOT NULL,
	CONSTRAINT `id_blocks_name` PRIMARY KEY(`name`)
);
--> statement-breakpoint
CREATE TABLE `inbox_events` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`platform` varchar(16) NOT NULL,
	`app_id` varchar(64) NOT NULL,
	`event_id` varchar(191) NOT NULL,
	`kind` varchar(24) NOT NULL,
	`event` json NOT NULL,
	`status` varchar(16) NOT NULL DEFAULT 'received',
	`attempts` int NOT NULL DEFAULT 0,
	`lease_token` varchar(32),
	`lease_until` datetime(3),
	`last_error` varchar(512),
	`received_at` datetime(3) NOT NULL,
	`processed_at` datetime(3),
	CONSTRAINT `inbox_events_id` PRIMARY KEY(`id`),
	CONSTRAINT `inbox_events_uq` UNIQUE(`platform`,`app_id`,`event_id`)
);
--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`dedupe_key` varchar(191) NOT NULL,
	`platform` varchar(16) NOT NULL,
	`kind` varchar(24) NOT NULL,
	`message` json NOT NULL,
	`rendered_api` varchar(64),
	`rendered_body` mediumtext,
	`rendered_target` varchar(191),
	`pacing_target` varchar(191),
	`status` varchar(16) NOT NULL DEFAULT 'pending',
	`attempts` int NOT NULL DEFAULT 0,
	`next_attempt_at` datetime(3) NOT NULL,
	`lease_token` varchar(32),
	`lease_until` datetime(3),
	`first_attempt_at` datetime(3),
	`last_error` varchar(512),
	`result` json,
	`lead_id` bigint unsigned,
	`card_id` varchar(128),
	`created_at` datetime(3) NOT NULL,
	`sent_at` datetime(3),
	CONSTRAINT `outbox_id` PRIMARY KEY(`id`),
	CONSTRAINT `outbox_dedupe_uq` UNIQUE(`dedupe_key`)
);
--> statement-breakpoint
CREATE TABLE `outbox_attempts` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`pacing_target` varchar(191) NOT NULL,
	`outbox_id` bigint unsigned NOT NULL,
	`attempted_at` datetime(3) NOT NULL,
	CONSTRAINT `outbox_attempts_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `pacing_targets` (
	`target` varchar(191) NOT NULL,
	CONSTRAINT `pacing_targets_target` PRIMARY KEY(`target`)
);
--> statement-breakpoint
CREATE TABLE `member_availability` (
	`member_id` varchar(64) NOT NULL,
	`away_until` datetime(3),
	`reason` varchar(255),
	`set_by` varchar(64),
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `member_availability_member_id` PRIMARY KEY(`member_id`)
);
--> statement-breakpoint
CREATE TABLE `routing_positions` (
	`team_id` varchar(64) NOT NULL,
	`member_id` varchar(64) NOT NULL,
	`current_weight` bigint NOT NULL DEFAULT 0,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `routing_positions_team_id_member_id_pk` PRIMARY KEY(`team_id`,`member_id`)
);
--> statement-breakpoint
CREATE TABLE `timers` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`effect_key` varchar(191) NOT NULL,
	`kind` varchar(48) NOT NULL,
	`lead_id` bigint unsigned,
	`payload` json NOT NULL,
	`due_at` datetime(3) NOT NULL,
	`status` varchar(16) NOT NULL DEFAULT 'pending',
	`attempts` int NOT NULL DEFAULT 0,
	`lease_token` varchar(32),
	`lease_until` datetime(3),
	`last_error` varchar(512),
	`created_at` datetime(3) NOT NULL,
	`fired_at` datetime(3),
	CONSTRAINT `timers_id` PRIMARY KEY(`id`),
	CONSTRAINT `timers_effect_uq` UNIQUE(`effect_key`)
);
--> statement-breakpoint
CREATE INDEX `activities_lead_type_idx` ON `activities` (`lead_id`,`type`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `idempotency_keys_expires_idx` ON `idempotency_keys` (`expires_at`);--> statement-breakpoint
CREATE INDEX `lead_events_lead_idx` ON `lead_events` (`lead_id`,`id`);--> statement-breakpoint
CREATE INDEX `lead_events_type_created_idx` ON `lead_events` (`type`,`created_at`);--> statement-breakpoint
CREATE INDEX `lead_identities_lead_idx` ON `lead_identities` (`lead_id`);--> statement-breakpoint
CREATE INDEX `leads_team_stage_idx` ON `leads` (`team_id`,`stage`);--> statement-breakpoint
CREATE INDEX `leads_owner_stage_idx` ON `leads` (`owner_id`,`stage`);--> statement-breakpoint
CREATE INDEX `leads_assignee_load_idx` ON `leads` (`assignee_id`,`owner_id`,`stage`,`assigned_at`);--> statement-breakpoint
CREATE INDEX `leads_company_key_idx` ON `leads` (`company_key`);--> statement-breakpoint
CREATE INDEX `leads_source_created_idx` ON `leads` (`source_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `leads_created_idx` ON `leads` (`created_at`);--> statement-breakpoint
CREATE INDEX `rejected_payloads_status_idx` ON `rejected_payloads` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `source_api_keys_source_idx` ON `source_api_keys` (`source_id`);--> statement-breakpoint
CREATE INDEX `cards_lead_idx` ON `cards` (`lead_id`);--> statement-breakpoint
CREATE INDEX `inbox_events_status_idx` ON `inbox_events` (`status`,`received_at`);--> statement-breakpoint
CREATE INDEX `outbox_due_idx` ON `outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `outbox_lease_idx` ON `outbox` (`status`,`lease_until`);--> statement-breakpoint
CREATE INDEX `outbox_lead_idx` ON `outbox` (`lead_id`);--> statement-breakpoint
CREATE INDEX `outbox_attempts_target_idx` ON `outbox_attempts` (`pacing_target`,`attempted_at`);--> statement-breakpoint
CREATE INDEX `timers_due_idx` ON `timers` (`status`,`due_at`);--> statement-breakpoint
CREATE INDEX `timers_lease_idx` ON `timers` (`status`,`lease_until`);--> statement-breakpoint
CREATE INDEX `timers_lead_idx` ON `timers` (`lead_id`,`status`);--> statement-breakpoint
INSERT INTO `id_blocks` (`name`, `next_id`) VALUES ('leads', 1);
