-- BackgroundCopy schema, migration 5: one index fewer to write on every group change.
-- groups_by_schedule (state, priority, id) held every group, tombstones included, so creating a
-- group, and each change of its state, wrote one more index page; under `.full` that page is in
-- every fsync. Since migration 3 the claim walks groups_runnable instead, and the three queries
-- left on it (the idle-group requeue, the best waiting background priority, the next retry time)
-- ask for queued or transferring groups only, which groups_runnable already holds.
DROP INDEX groups_by_schedule;
