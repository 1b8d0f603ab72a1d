-- Rubrics and templates v2 (issue 13).
--
-- A criterion may be limited to some candidate levels (leadership and
-- mentoring is asked of senior/staff candidates only); no levels means every
-- level. The shipped rubrics take theirs from their files at the next start-up.
alter table rubric_criteria
    add column levels text[] not null default '{}',
    add constraint rubric_criteria_levels_check check (levels <@ array['junior_mid', 'senior_staff']);
update rubrics set content_hash = '';

-- An integrity concern is a flag on the scorecard beside the scores, never a
-- low score: which concerns the assessor raised, and an optional note (a
-- draft may hold a note typed before its concern is ticked; a submitted card may not).
alter table scorecards
    add column integrity_concerns text[] not null default '{}',
    add column integrity_note text not null default '',
    add constraint scorecards_integrity_concerns_check check (integrity_concerns <@ array[
        'disclosed_confidential', 'misrepresented_work', 'outside_help']),
    add constraint scorecards_integrity_note_needs_concern check (
        status = 'draft' or integrity_note = '' or cardinality(integrity_concerns) > 0),
    add constraint scorecards_integrity_note_size check (length(integrity_note) <= 10000);

-- A 45-minute behavioral, fundamentals or hiring-manager round asks up to three questions.
alter table template_rounds
    drop constraint template_rounds_question_count_range,
    add constraint template_rounds_question_count_range check (question_count between 1 and 3);
alter table rounds
    drop constraint rounds_questions_wanted_range,
    add constraint rounds_questions_wanted_range check (questions_wanted between 1 and 3),
    drop constraint rounds_current_question_range,
    add constraint rounds_current_question_range check (current_question between 1 and 3);
alter table round_questions
    drop constraint round_questions_position_range,
    add constraint round_questions_position_range check (position between 1 and 3);

-- A round may draw from part of its kind's pool, told apart by a tag: the
-- ML coding round of a two-coding onsite takes questions tagged `ml-coding`,
-- the algorithmic one questions without it. The loop's rounds keep the
-- filter, so that a swap keeps to it.
alter table template_rounds
    add column with_tag text,
    add column without_tag text,
    add constraint template_rounds_one_tag_filter check (with_tag is null or without_tag is null);
alter table rounds
    add column with_tag text,
    add column without_tag text,
    add constraint rounds_one_tag_filter check (with_tag is null or without_tag is null);
update loop_templates set content_hash = '' where owner_id is null;
