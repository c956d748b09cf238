-- The kernel's pipeline schema (runs, stages, attempts, skips, quarantine).
-- As release 0.1.0 of the daemon left it, squashed from that release's global migrations
-- 0001-0021 (git has them, and the reason for every change). A database migrated by that release
-- has all of it: there the migrator records this migration as applied instead of running it
-- (docs/plugins.md, "Migrations").

CREATE TABLE pipeline.quarantine (
    id bigint NOT NULL,
    run_id uuid,
    table_name text NOT NULL,
    row_id text,
    check_name text NOT NULL,
    reason text NOT NULL,
    row_data jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE pipeline.quarantine ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME pipeline.quarantine_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE pipeline.run_skips (
    id bigint NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    trigger text NOT NULL,
    run_date date NOT NULL,
    reason text NOT NULL,
    host text,
    pid integer
);

ALTER TABLE pipeline.run_skips ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME pipeline.run_skips_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE pipeline.runs (
    id uuid NOT NULL,
    trigger text NOT NULL,
    run_date date NOT NULL,
    scheduled_for timestamp with time zone,
    status text NOT NULL,
    owner text NOT NULL,
    host text,
    pid integer,
    requested_stages text[],
    resumed_from uuid,
    code_version text NOT NULL,
    config_hash text NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    error text,
    report jsonb,
    CONSTRAINT runs_status_check CHECK ((status = ANY (ARRAY['running'::text, 'succeeded'::text, 'failed'::text, 'abandoned'::text, 'interrupted'::text]))),
    CONSTRAINT runs_trigger_check CHECK ((trigger = ANY (ARRAY['schedule'::text, 'api'::text, 'cli'::text, 'backfill'::text])))
);

CREATE TABLE pipeline.stage_attempts (
    run_id uuid NOT NULL,
    stage text NOT NULL,
    attempt integer NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    outcome text NOT NULL,
    error text,
    retry_delay_ms integer,
    CONSTRAINT stage_attempts_outcome_check CHECK ((outcome = ANY (ARRAY['running'::text, 'succeeded'::text, 'failed'::text, 'timeout'::text, 'aborted'::text])))
);

CREATE TABLE pipeline.stage_runs (
    run_id uuid NOT NULL,
    stage text NOT NULL,
    "position" integer NOT NULL,
    status text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    duration_ms integer,
    rows jsonb DEFAULT '[]'::jsonb NOT NULL,
    error text,
    error_kind text,
    details jsonb,
    input_fingerprint text,
    CONSTRAINT stage_runs_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'running'::text, 'succeeded'::text, 'failed'::text, 'skipped'::text])))
);

ALTER TABLE ONLY pipeline.quarantine
    ADD CONSTRAINT quarantine_pkey PRIMARY KEY (id);

ALTER TABLE ONLY pipeline.run_skips
    ADD CONSTRAINT run_skips_pkey PRIMARY KEY (id);

ALTER TABLE ONLY pipeline.runs
    ADD CONSTRAINT runs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY pipeline.stage_attempts
    ADD CONSTRAINT stage_attempts_pkey PRIMARY KEY (run_id, stage, attempt);

ALTER TABLE ONLY pipeline.stage_runs
    ADD CONSTRAINT stage_runs_pkey PRIMARY KEY (run_id, stage);

CREATE INDEX quarantine_run_id_idx ON pipeline.quarantine USING btree (run_id);

CREATE UNIQUE INDEX runs_scheduled_tick_idx ON pipeline.runs USING btree (run_date, scheduled_for) WHERE ((trigger = 'schedule'::text) AND (status <> 'abandoned'::text));

CREATE INDEX runs_started_at_idx ON pipeline.runs USING btree (started_at DESC);

CREATE INDEX runs_status_idx ON pipeline.runs USING btree (status) WHERE (status = 'running'::text);

ALTER TABLE ONLY pipeline.runs
    ADD CONSTRAINT runs_resumed_from_fkey FOREIGN KEY (resumed_from) REFERENCES pipeline.runs(id);

ALTER TABLE ONLY pipeline.stage_attempts
    ADD CONSTRAINT stage_attempts_run_id_fkey FOREIGN KEY (run_id) REFERENCES pipeline.runs(id) ON DELETE CASCADE;

ALTER TABLE ONLY pipeline.stage_runs
    ADD CONSTRAINT stage_runs_run_id_fkey FOREIGN KEY (run_id) REFERENCES pipeline.runs(id) ON DELETE CASCADE;
