-- BackgroundCopy schema, migration 3: the scheduler's order without a sort.
-- groups_by_schedule (state, priority, id) gives (priority, id) order for one state only; the claim
-- asks for two (queued and transferring), so SQLite sorted every runnable group — evaluating the
-- per-group subqueries for each — before the first row came out: a claim cost grew with the backlog
-- (75 ms on a queue of 1,000,000 files in 10,000 groups). This index yields runnable groups in
-- claim order, so the claim stops at the first group with work.
CREATE INDEX groups_runnable ON groups (priority, id) WHERE state IN ('queued', 'transferring');
