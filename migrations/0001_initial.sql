-- The whole product's schema: accounts, content (questions, rubrics, templates),
-- loops with their rounds, timers, notes, scorecards and invitations.
-- Enumerations are text with named CHECK constraints so that errors name the rule.

create function set_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end;
$$;

-- array_to_string is only STABLE; the search vector is a generated column, which
-- needs an IMMUTABLE expression, and joining text is immutable in fact.
create function immutable_join(text[]) returns text language sql immutable parallel safe
    as $$ select array_to_string($1, ' ') $$;

-- Accounts ------------------------------------------------------------------

create table users (
    id uuid primary key default gen_random_uuid(),
    username text not null,
    display_name text not null,
    password_hash text not null,
    calendar_token_hash bytea,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint users_username_length check (char_length(username) between 3 and 64),
    constraint users_username_lowercase check (username = lower(username)),
    constraint users_display_name_length check (char_length(display_name) between 1 and 80)
);
create unique index users_username_key on users (username);
create unique index users_calendar_token_hash_key on users (calendar_token_hash)
    where calendar_token_hash is not null;
create trigger users_updated_at before update on users
    for each row execute function set_updated_at();

create table sessions (
    id_hash bytea primary key,
    user_id uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create index sessions_user_id_idx on sessions (user_id);
create index sessions_expires_at_idx on sessions (expires_at);

create table sign_in_attempts (
    id bigint generated always as identity primary key,
    username text not null,
    client_ip text not null,
    succeeded boolean not null,
    attempted_at timestamptz not null default now()
);
create index sign_in_attempts_username_idx on sign_in_attempts (username, attempted_at);
create index sign_in_attempts_client_ip_idx on sign_in_attempts (client_ip, attempted_at);

-- Content -------------------------------------------------------------------

create table questions (
    id uuid primary key default gen_random_uuid(),
    slug text not null,
    owner_id uuid references users (id) on delete cascade,
    kind text not null,
    title text not null,
    prompt_md text not null,
    prompt_html text not null,
    follow_ups text[] not null,
    hints text[] not null,
    good_answer_md text not null,
    good_answer_html text not null,
    tags text[] not null,
    teams text[] not null,
    levels text[] not null,
    difficulty smallint not null,
    suggested_minutes smallint not null,
    guide_quotes text[] not null default '{}',
    content_hash text not null,
    search tsvector generated always as (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', immutable_join(tags)), 'B')
        || setweight(to_tsvector('english', prompt_md), 'C')
    ) stored,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint questions_slug_key unique (slug),
    constraint questions_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    constraint questions_kind_check check (kind in
        ('coding', 'ml_fundamentals', 'ml_system_design', 'domain', 'behavioral', 'hiring_manager')),
    constraint questions_difficulty_range check (difficulty between 1 and 3),
    constraint questions_minutes_range check (suggested_minutes between 5 and 120),
    constraint questions_levels_check check (
        cardinality(levels) >= 1 and levels <@ array['junior_mid', 'senior_staff']),
    constraint questions_teams_check check (teams <@ array[
        'siri-nlp', 'camera-cv', 'health-timeseries', 'genai-llm', 'infra-data', 'services-recsys'])
);
create index questions_search_idx on questions using gin (search);
create index questions_tags_idx on questions using gin (tags);
create index questions_teams_idx on questions using gin (teams);
create index questions_kind_idx on questions (kind, difficulty);
create index questions_owner_idx on questions (owner_id) where owner_id is not null;
create trigger questions_updated_at before update on questions
    for each row execute function set_updated_at();

create table rubrics (
    id uuid primary key default gen_random_uuid(),
    kind text not null,
    title text not null,
    summary text not null,
    content_hash text not null,
    updated_at timestamptz not null default now(),
    constraint rubrics_kind_key unique (kind),
    constraint rubrics_kind_check check (kind in
        ('coding', 'ml_fundamentals', 'ml_system_design', 'domain', 'behavioral', 'hiring_manager'))
);

-- A criterion dropped from its file is retired, not deleted: old scores keep pointing at it.
create table rubric_criteria (
    id uuid primary key default gen_random_uuid(),
    rubric_id uuid not null references rubrics (id) on delete cascade,
    slug text not null,
    position smallint not null,
    name text not null,
    pillar text not null,
    description text not null,
    anchors text[] not null,
    retired boolean not null default false,
    constraint rubric_criteria_slug_key unique (rubric_id, slug),
    constraint rubric_criteria_pillar_check check (pillar in
        ('technical_depth', 'engineering_excellence', 'domain_expertise', 'communication_culture')),
    constraint rubric_criteria_anchors_count check (cardinality(anchors) = 4)
);

create table loop_templates (
    id uuid primary key default gen_random_uuid(),
    slug text not null,
    owner_id uuid references users (id) on delete cascade,
    name text not null,
    description text not null,
    team text,
    content_hash text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint loop_templates_slug_key unique (slug),
    constraint loop_templates_team_check check (team in
        ('siri-nlp', 'camera-cv', 'health-timeseries', 'genai-llm', 'infra-data', 'services-recsys'))
);
create trigger loop_templates_updated_at before update on loop_templates
    for each row execute function set_updated_at();

create table template_rounds (
    template_id uuid not null references loop_templates (id) on delete cascade,
    position smallint not null,
    kind text not null,
    title text not null,
    minutes smallint not null,
    question_count smallint not null default 1,
    primary key (template_id, position),
    constraint template_rounds_kind_check check (kind in
        ('coding', 'ml_fundamentals', 'ml_system_design', 'domain', 'behavioral', 'hiring_manager')),
    constraint template_rounds_minutes_range check (minutes between 15 and 120),
    constraint template_rounds_question_count_range check (question_count between 1 and 2)
);

-- Loops ---------------------------------------------------------------------

create table loops (
    id uuid primary key default gen_random_uuid(),
    candidate_id uuid not null references users (id) on delete cascade,
    template_id uuid references loop_templates (id) on delete set null,
    template_name text not null,
    team text not null,
    level text not null,
    mode text not null,
    status text not null default 'scheduled',
    starts_at timestamptz not null,
    time_zone text not null,
    break_minutes smallint not null default 10,
    selection_seed bigint not null,
    calendar_sequence integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    completed_at timestamptz,
    cancelled_at timestamptz,
    constraint loops_team_check check (team in
        ('siri-nlp', 'camera-cv', 'health-timeseries', 'genai-llm', 'infra-data', 'services-recsys')),
    constraint loops_level_check check (level in ('junior_mid', 'senior_staff')),
    constraint loops_mode_check check (mode in ('peer', 'self_timed')),
    constraint loops_status_check check (status in ('scheduled', 'in_progress', 'completed', 'cancelled')),
    constraint loops_break_range check (break_minutes between 0 and 120)
);
-- History: a candidate's loops newest first, keyset-paginated on (starts_at, id).
create index loops_candidate_history_idx on loops (candidate_id, starts_at desc, id desc);
create trigger loops_updated_at before update on loops
    for each row execute function set_updated_at();

-- The timer's truth: elapsed_ms banks the time of finished running spans;
-- running_since is set while it runs, so remaining = planned + extensions - elapsed - (now - running_since).
create table rounds (
    id uuid primary key default gen_random_uuid(),
    loop_id uuid not null references loops (id) on delete cascade,
    position smallint not null,
    kind text not null,
    title text not null,
    planned_minutes smallint not null,
    interviewer_id uuid references users (id) on delete set null,
    timer_state text not null default 'not_started',
    started_at timestamptz,
    running_since timestamptz,
    elapsed_ms bigint not null default 0,
    extension_seconds integer not null default 0,
    ended_at timestamptz,
    timer_version integer not null default 0,
    constraint rounds_position_key unique (loop_id, position),
    constraint rounds_kind_check check (kind in
        ('coding', 'ml_fundamentals', 'ml_system_design', 'domain', 'behavioral', 'hiring_manager')),
    constraint rounds_minutes_range check (planned_minutes between 15 and 120),
    constraint rounds_timer_state_check check (timer_state in ('not_started', 'running', 'paused', 'ended')),
    constraint rounds_running_since_matches_state check ((timer_state = 'running') = (running_since is not null)),
    constraint rounds_elapsed_nonnegative check (elapsed_ms >= 0),
    constraint rounds_extension_nonnegative check (extension_seconds >= 0)
);
create index rounds_interviewer_idx on rounds (interviewer_id, loop_id) where interviewer_id is not null;

create table timer_events (
    id bigint generated always as identity primary key,
    round_id uuid not null references rounds (id) on delete cascade,
    actor_id uuid references users (id) on delete set null,
    action text not null,
    seconds integer,
    reason text,
    occurred_at timestamptz not null default now(),
    constraint timer_events_action_check check (action in ('start', 'pause', 'resume', 'extend', 'end'))
);
create index timer_events_round_idx on timer_events (round_id, occurred_at);

create table round_questions (
    round_id uuid not null references rounds (id) on delete cascade,
    position smallint not null,
    question_id uuid not null references questions (id),
    budget_minutes smallint not null,
    hints_used smallint[] not null default '{}',
    follow_ups_used smallint[] not null default '{}',
    primary key (round_id, position),
    constraint round_questions_position_range check (position between 1 and 2),
    constraint round_questions_budget_range check (budget_minutes between 1 and 120)
);
-- "Questions seen" and no-repeat selection look up a question's rounds.
create index round_questions_question_idx on round_questions (question_id);

create table notes (
    id uuid primary key default gen_random_uuid(),
    round_id uuid not null references rounds (id) on delete cascade,
    author_id uuid not null references users (id) on delete cascade,
    kind text not null,
    body_md text not null default '',
    body_html text not null default '',
    version integer not null default 0,
    updated_at timestamptz not null default now(),
    constraint notes_author_kind_key unique (round_id, kind, author_id),
    constraint notes_kind_check check (kind in ('scratchpad', 'private')),
    constraint notes_body_size check (octet_length(body_md) <= 200000)
);

create table scorecards (
    id uuid primary key default gen_random_uuid(),
    round_id uuid not null references rounds (id) on delete cascade,
    author_id uuid not null references users (id) on delete cascade,
    role text not null,
    status text not null default 'draft',
    recommendation text,
    summary text not null default '',
    strengths text not null default '',
    areas_to_improve text not null default '',
    version integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    submitted_at timestamptz,
    constraint scorecards_role_key unique (round_id, role),
    constraint scorecards_role_check check (role in ('interviewer', 'self')),
    constraint scorecards_status_check check (status in ('draft', 'submitted')),
    constraint scorecards_recommendation_check check (recommendation in
        ('strong_no_hire', 'no_hire', 'hire', 'strong_hire')),
    constraint scorecards_submitted_complete check (
        status = 'draft' or (submitted_at is not null and recommendation is not null))
);
create index scorecards_author_idx on scorecards (author_id, status);
create trigger scorecards_updated_at before update on scorecards
    for each row execute function set_updated_at();

-- A null score is "not assessed": no evidence, which is not a low score.
create table criterion_scores (
    scorecard_id uuid not null references scorecards (id) on delete cascade,
    criterion_id uuid not null references rubric_criteria (id),
    score smallint,
    evidence text not null default '',
    primary key (scorecard_id, criterion_id),
    constraint criterion_scores_score_range check (score between 1 and 4)
);

create table scorecard_amendments (
    id bigint generated always as identity primary key,
    scorecard_id uuid not null references scorecards (id) on delete cascade,
    author_id uuid references users (id) on delete set null,
    previous jsonb not null,
    reason text not null default '',
    amended_at timestamptz not null default now()
);
create index scorecard_amendments_scorecard_idx on scorecard_amendments (scorecard_id, amended_at);

create table invitations (
    id uuid primary key default gen_random_uuid(),
    loop_id uuid not null references loops (id) on delete cascade,
    token_hash bytea not null,
    created_by uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz,
    constraint invitations_token_hash_key unique (token_hash),
    constraint invitations_expiry_after_creation check (expires_at > created_at)
);
create index invitations_loop_idx on invitations (loop_id);

create table invitation_rounds (
    invitation_id uuid not null references invitations (id) on delete cascade,
    round_id uuid not null references rounds (id) on delete cascade,
    accepted_by uuid references users (id) on delete set null,
    accepted_at timestamptz,
    primary key (invitation_id, round_id),
    constraint invitation_rounds_acceptance_complete check ((accepted_by is null) = (accepted_at is null))
);
