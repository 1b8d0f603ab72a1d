-- A coding question's runnable parts (content/README.md): the starter the
-- candidate begins from, the test cases the browser runs against their code,
-- and the reference solution, which only the interviewer sees before the round ends.
alter table questions
    add column starter_language text,
    add column starter_code text,
    add column tests jsonb,
    add column reference_solution text,
    add constraint questions_starter_language_check check (starter_language in ('python', 'cpp')),
    add constraint questions_starter_complete check ((starter_language is null) = (starter_code is null)),
    add constraint questions_tests_need_starter check (tests is null or starter_code is not null);
