-- Reads that pages make on every visit, made proportional to what they show.

-- The question page asks which of the viewer's own rounds use the question
-- (the guidance rule). From the question's side that visited every round of
-- every candidate given it; a round's candidate is its loop's, which never
-- changes, so it is kept beside each question of the round.
alter table round_questions add column candidate_id uuid;
update round_questions rq set candidate_id = l.candidate_id
from rounds r join loops l on l.id = r.loop_id
where r.id = rq.round_id;
alter table round_questions alter column candidate_id set not null;
create index round_questions_candidate_idx on round_questions (candidate_id, question_id);

-- The bank's text index is written only by imports and private questions:
-- written through at once, a search never has a pending list to read.
alter index questions_search_idx set (fastupdate = off);
select gin_clean_pending_list('questions_search_idx'::regclass);

-- Rounds interviewed against rounds been interviewed (home and the board)
-- counts the rounds of a candidate's peer loops only.
create index loops_peer_candidate_idx on loops (candidate_id) where mode = 'peer';
