/**
 * Tandem's own schema, applied in order by `migrate`. Plain SQL only (no extensions, no server-only
 * features) so the same text runs on server PostgreSQL and on PGlite. Applied migrations are never
 * edited: a change is a new entry at the end.
 */
export interface Migration {
  id: string;
  sql: string;
}

const initial = `
CREATE TABLE tandem_entities (
  tenant_id text NOT NULL,
  entity_id uuid NOT NULL,
  entity_type text NOT NULL,
  version bigint NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  -- json, not jsonb: stored and returned whole, never queried into, so it is not parsed twice.
  state json NOT NULL,
  -- Optimistic-concurrency revision: every save increments it, so a writer that loaded an older one
  -- (a reconciler that lost its partition) is refused.
  rev bigint NOT NULL CHECK (rev > 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, entity_id)
);

CREATE TABLE tandem_record_links (
  tenant_id text NOT NULL,
  entity_type text NOT NULL,
  system_id text NOT NULL,
  record_id text NOT NULL,
  entity_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, entity_type, system_id, record_id),
  -- One record per system per entity.
  UNIQUE (tenant_id, entity_type, system_id, entity_id)
);
CREATE INDEX tandem_record_links_entity_idx ON tandem_record_links (tenant_id, entity_id);

CREATE TABLE tandem_match_keys (
  tenant_id text NOT NULL,
  entity_type text NOT NULL,
  match_key text NOT NULL,
  entity_id uuid NOT NULL,
  PRIMARY KEY (tenant_id, entity_type, match_key)
);

CREATE TABLE tandem_sync_configs (
  id text PRIMARY KEY,
  tenant_id text NOT NULL,
  entity_type text NOT NULL,
  config jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tandem_sync_configs_entity_key UNIQUE (tenant_id, entity_type)
);

CREATE TABLE tandem_conflicts (
  conflict_id text PRIMARY KEY,
  tenant_id text NOT NULL,
  entity_type text NOT NULL,
  entity_id uuid NOT NULL,
  field text NULL,
  kind text NOT NULL,
  risk text NOT NULL,
  strategy text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'resolved')),
  sides jsonb NOT NULL,
  outcome jsonb NULL,
  decided_by text NULL,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tandem_conflicts_status_idx ON tandem_conflicts (tenant_id, status);
CREATE INDEX tandem_conflicts_entity_idx ON tandem_conflicts (tenant_id, entity_id);

CREATE TABLE tandem_record_errors (
  id bigserial PRIMARY KEY,
  tenant_id text NOT NULL,
  system_id text NOT NULL,
  entity_id uuid NULL,
  record_id text NULL,
  command_id text NULL,
  code text NOT NULL,
  message text NOT NULL,
  payload jsonb NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  redriven_at timestamptz NULL
);
CREATE INDEX tandem_record_errors_tenant_idx ON tandem_record_errors (tenant_id, system_id, id);

CREATE TABLE tandem_connector_checkpoints (
  tenant_id text NOT NULL,
  system_id text NOT NULL,
  name text NOT NULL,
  position text NOT NULL,
  fencing_token bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, system_id, name)
);

CREATE TABLE tandem_sync_log (
  id bigserial PRIMARY KEY,
  tenant_id text NOT NULL,
  entity_id uuid NULL,
  system_id text NULL,
  action text NOT NULL,
  detail jsonb NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tandem_sync_log_entity_idx ON tandem_sync_log (tenant_id, entity_id);
`;

const sourceInbox = `
-- Notices from sources that are not read in their own change order (webhooks, polls, backfills of
-- SaaS APIs), kept until the change they announce is published. A notice either carries the record
-- or only says that it changed or went away, and then the record is fetched.
CREATE TABLE tandem_source_inbox (
  id bigserial PRIMARY KEY,
  tenant_id text NOT NULL,
  system_id text NOT NULL,
  record_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('record', 'changed', 'deleted')),
  modified_at_ms bigint NULL,
  record_values json NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tandem_source_inbox_system_idx ON tandem_source_inbox (tenant_id, system_id, id);

-- What such a source last reported of each record: the "before" of its next change, and the
-- modification time that drops late, reordered or duplicated notices.
CREATE TABLE tandem_source_records (
  tenant_id text NOT NULL,
  system_id text NOT NULL,
  record_id text NOT NULL,
  modified_at_ms bigint NOT NULL,
  deleted boolean NOT NULL,
  record_values json NOT NULL,
  PRIMARY KEY (tenant_id, system_id, record_id)
);
`;

const appliedVersions = `
-- The newest command version each applier wrote per entity, for targets that cannot record it with
-- the write (an API): a redelivered older command is stale instead of undoing newer edits there.
CREATE TABLE tandem_applied_versions (
  tenant_id text NOT NULL,
  system_id text NOT NULL,
  entity_id uuid NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (tenant_id, system_id, entity_id)
);
`;

const sourceRecordReports = `
-- The modification times of the states of each record already published (a bounded window): a
-- notice announcing one of them again after later states is a duplicate, not an edit learnt late.
ALTER TABLE tandem_source_records ADD COLUMN reported_ms bigint[] NOT NULL DEFAULT '{}';
`;

const replacedLinks = `
-- Records that stood for an entity in a system until Tandem replaced them there (a re-create after
-- a delete): edits made on them before they went still belong to that entity.
CREATE TABLE tandem_replaced_links (
  tenant_id text NOT NULL,
  entity_type text NOT NULL,
  system_id text NOT NULL,
  record_id text NOT NULL,
  entity_id uuid NOT NULL,
  PRIMARY KEY (tenant_id, entity_type, system_id, record_id)
);
`;

const appliedVersionRecords = `
-- The record the newest version was written to: a redelivered create answered as stale still names
-- the record it made, which its first result, lost in a crash, would have told the reconciler.
ALTER TABLE tandem_applied_versions ADD COLUMN record_id text;
`;

const appliedVersionPositions = `
-- Where the newest write landed in the system's change order: the commands a redelivered batch
-- answers as stale were carried by that write, and the system's report of it is Tandem's own.
ALTER TABLE tandem_applied_versions ADD COLUMN position text;
`;

const unseenDeletes = `
-- Deletes of records no entity held, made before Tandem saw them, whose key no entity had yet: the
-- copy another system makes of that key, seen later, is the entity that delete was of.
CREATE TABLE tandem_unseen_deletes (
  tenant_id text NOT NULL,
  entity_type text NOT NULL,
  system_id text NOT NULL,
  record_id text NOT NULL,
  match_key text NOT NULL,
  sequence text NOT NULL,
  deleted_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, entity_type, system_id, record_id)
);
CREATE INDEX tandem_unseen_deletes_key_idx ON tandem_unseen_deletes (tenant_id, entity_type, match_key);
`;

const recordErrorCommands = `
-- A command delivered again after its failure was logged is answered from the log.
CREATE INDEX tandem_record_errors_command_idx ON tandem_record_errors (tenant_id, system_id, command_id);
`;

const archiveAttempts = `
-- Delete commands an applier has sent archives for (HubSpot answers an archive of an archived contact
-- like any other): a delete redelivered after a crash knows the archive it finds as its own.
CREATE TABLE tandem_archive_attempts (
  system_id text NOT NULL,
  command_id text NOT NULL,
  attempted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (system_id, command_id)
);
CREATE INDEX tandem_archive_attempts_age_idx ON tandem_archive_attempts (system_id, attempted_at);
`;

const createIntents = `
-- Creates an applier is about to send to a system whose connector cannot tell Tandem's writes (an
-- API): that connector, seeing the new record before the applier could link it, or after the applier
-- died in between, knows it for the entity's rather than starting an entity of its own.
CREATE TABLE tandem_create_intents (
  tenant_id text NOT NULL,
  system_id text NOT NULL,
  entity_id uuid NOT NULL,
  command_id text NOT NULL,
  announced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, system_id, entity_id, command_id)
);
CREATE INDEX tandem_create_intents_age_idx ON tandem_create_intents (system_id, announced_at);
`;

const appliedVersionDeletes = `
-- The newest delete written per entity, with the record it removed and where that landed: a
-- redelivered delete answered as stale still tells where Tandem's delete landed, which is what
-- places the system's own delete of that record before or after it.
ALTER TABLE tandem_applied_versions
  ADD COLUMN delete_version bigint,
  ADD COLUMN delete_record_id text,
  ADD COLUMN delete_position text;
`;

const archiveAttemptDeadlines = `
-- The latest time each attempt's archive can have been made (when its request's answer was due):
-- an archive found later is someone else's, not the attempt's.
ALTER TABLE tandem_archive_attempts ADD COLUMN archived_by timestamptz;
UPDATE tandem_archive_attempts SET archived_by = attempted_at + interval '1 minute';
ALTER TABLE tandem_archive_attempts ALTER COLUMN archived_by SET NOT NULL;
`;

const recordLinkEntityKey = `
-- One index for an entity's links, instead of two: its record per system stays unique (the same
-- columns, entity first), and a lookup of all of an entity's links reads its leading column. Every
-- link written or removed then updates two indexes, not three.
ALTER TABLE tandem_record_links
  ADD CONSTRAINT tandem_record_links_entity_key UNIQUE (entity_id, system_id, entity_type, tenant_id);
ALTER TABLE tandem_record_links DROP CONSTRAINT tandem_record_links_tenant_id_entity_type_system_id_entity__key;
DROP INDEX tandem_record_links_entity_idx;
`;

const keysLeadWithIds = `
-- Keys lead with the id that tells rows apart, and end with the tenant and entity type that most
-- rows share: a B-tree comparison then settles on its first column, where it compared two or three
-- equal texts first. Every lookup names its key's leading column, so each still reads its index.
ALTER TABLE tandem_entities DROP CONSTRAINT tandem_entities_pkey,
  ADD CONSTRAINT tandem_entities_pkey PRIMARY KEY (entity_id, tenant_id);
ALTER TABLE tandem_record_links DROP CONSTRAINT tandem_record_links_pkey,
  ADD CONSTRAINT tandem_record_links_pkey PRIMARY KEY (record_id, system_id, entity_type, tenant_id);
ALTER TABLE tandem_replaced_links DROP CONSTRAINT tandem_replaced_links_pkey,
  ADD CONSTRAINT tandem_replaced_links_pkey PRIMARY KEY (record_id, system_id, entity_type, tenant_id);
ALTER TABLE tandem_match_keys DROP CONSTRAINT tandem_match_keys_pkey,
  ADD CONSTRAINT tandem_match_keys_pkey PRIMARY KEY (match_key, entity_type, tenant_id);
ALTER TABLE tandem_source_records DROP CONSTRAINT tandem_source_records_pkey,
  ADD CONSTRAINT tandem_source_records_pkey PRIMARY KEY (record_id, system_id, tenant_id);
ALTER TABLE tandem_applied_versions DROP CONSTRAINT tandem_applied_versions_pkey,
  ADD CONSTRAINT tandem_applied_versions_pkey PRIMARY KEY (entity_id, system_id, tenant_id);
ALTER TABLE tandem_create_intents DROP CONSTRAINT tandem_create_intents_pkey,
  ADD CONSTRAINT tandem_create_intents_pkey PRIMARY KEY (entity_id, command_id, system_id, tenant_id);
ALTER TABLE tandem_unseen_deletes DROP CONSTRAINT tandem_unseen_deletes_pkey,
  ADD CONSTRAINT tandem_unseen_deletes_pkey PRIMARY KEY (record_id, system_id, entity_type, tenant_id);
DROP INDEX tandem_unseen_deletes_key_idx;
CREATE INDEX tandem_unseen_deletes_key_idx ON tandem_unseen_deletes (match_key, entity_type, tenant_id);
DROP INDEX tandem_sync_log_entity_idx;
CREATE INDEX tandem_sync_log_entity_idx ON tandem_sync_log (entity_id, tenant_id);
DROP INDEX tandem_conflicts_entity_idx;
CREATE INDEX tandem_conflicts_entity_idx ON tandem_conflicts (entity_id, tenant_id);
`;

export const MIGRATIONS: Migration[] = [
  { id: '001_initial', sql: initial },
  { id: '002_source_inbox', sql: sourceInbox },
  { id: '003_applied_versions', sql: appliedVersions },
  { id: '004_source_record_reports', sql: sourceRecordReports },
  { id: '005_replaced_links', sql: replacedLinks },
  { id: '006_applied_version_records', sql: appliedVersionRecords },
  { id: '007_applied_version_positions', sql: appliedVersionPositions },
  { id: '008_unseen_deletes', sql: unseenDeletes },
  { id: '009_record_error_commands', sql: recordErrorCommands },
  { id: '010_archive_attempts', sql: archiveAttempts },
  { id: '011_create_intents', sql: createIntents },
  { id: '012_applied_version_deletes', sql: appliedVersionDeletes },
  { id: '013_archive_attempt_deadlines', sql: archiveAttemptDeadlines },
  { id: '014_record_link_entity_key', sql: recordLinkEntityKey },
  { id: '015_keys_lead_with_ids', sql: keysLeadWithIds },
];
