-- Question bank v2 (issue 13).
--
-- Every question has a topic, the core concept it tests: selection never puts
-- two questions of one topic into a loop. A private question without one
-- takes its own slug, so existing ones start there. Calibration notes (what
-- separates a 1 from a 2 and a 3 from a 4, and the bar by level) are stored
-- like the other interviewer sections, as Markdown and its rendered HTML;
-- every shipped question has them, a private one may not.
alter table questions
    add column topic text,
    add column calibration_md text,
    add column calibration_html text;
update questions set topic = slug;
alter table questions
    alter column topic set not null,
    add constraint questions_topic_format check (topic ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    add constraint questions_calibration_complete check ((calibration_md is null) = (calibration_html is null));
-- The shipped rows take their topic and calibration from their files at the next start-up.
update questions set content_hash = '' where owner_id is null;

-- How many questions the round's template asked for, so that a round the bank
-- could not fill (without repeating a topic of the loop) says so instead of
-- quietly holding fewer. Demo loops take one question a round: the default.
alter table rounds add column questions_wanted smallint not null default 1;
update rounds r set questions_wanted = greatest(1, (select count(*) from round_questions rq where rq.round_id = r.id));
alter table rounds add constraint rounds_questions_wanted_range check (questions_wanted between 1 and 2);

-- The Core ML / on-device team focus.
alter table questions
    drop constraint questions_teams_check,
    add constraint questions_teams_check check (teams <@ array[
        'siri-nlp', 'camera-cv', 'health-timeseries', 'genai-llm', 'infra-data', 'services-recsys',
        'coreml-on-device']);
alter table loop_templates
    drop constraint loop_templates_team_check,
    add constraint loop_templates_team_check check (team in
        ('siri-nlp', 'camera-cv', 'health-timeseries', 'genai-llm', 'infra-data', 'services-recsys',
         'coreml-on-device'));
alter table loops
    drop constraint loops_team_check,
    add constraint loops_team_check check (team in
        ('siri-nlp', 'camera-cv', 'health-timeseries', 'genai-llm', 'infra-data', 'services-recsys',
         'coreml-on-device'));
