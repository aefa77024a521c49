/// Deletes what old tombstones leave behind, in one transaction: the jobs, files and events of
/// groups cancelled before the cutoff, and the cancelled jobs (with their files and events) of
/// live groups. A cancelled group keeps its row, emptied of its description, headers and notify command, so its
/// ID stays taken forever.
struct TombstonePurge {
    let cutoff: Int64

    func run(_ db: Connection) throws(QueueError) -> Int {
        let oldGroups = "SELECT id FROM groups WHERE state = 'cancelled' AND cancelled_at < ?1"
        let count = try db.statement(
            """
            SELECT (SELECT count(*) FROM groups g WHERE g.state = 'cancelled' AND g.cancelled_at < ?1
                      AND (EXISTS (SELECT 1 FROM jobs j WHERE j.group_id = g.id)
                           OR EXISTS (SELECT 1 FROM events e WHERE e.group_id = g.id)))
                 + (SELECT count(*) FROM jobs j JOIN groups g ON g.id = j.group_id
                    WHERE j.state = 'cancelled' AND j.cancelled_at < ?1
                      AND NOT (g.state = 'cancelled' AND g.cancelled_at < ?1))
            """
        ).bind(.integer(cutoff))
        _ = try count.step()
        let purged = count.int(0)
        try db.statement("DELETE FROM events WHERE group_id IN (\(oldGroups))").bind(.integer(cutoff)).run()
        try db.statement(
            """
            DELETE FROM jobs WHERE (group_id IN (\(oldGroups))) OR (state = 'cancelled' AND cancelled_at < ?1)
            """
        ).bind(.integer(cutoff)).run()
        try db.statement(
            """
            UPDATE groups SET description = '', http_headers = '', notify_command = NULL
            WHERE state = 'cancelled' AND cancelled_at < ?1
              AND (description <> '' OR http_headers <> '' OR notify_command IS NOT NULL)
            """
        ).bind(.integer(cutoff)).run()
        return purged
    }
}
