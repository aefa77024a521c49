/// Sums progress over files in one query; counts exclude cancelled jobs.
enum ProgressQuery {
    private static let columns = """
        SELECT count(*), coalesce(sum(f.state = 'complete'), 0), coalesce(sum(f.bytes_done), 0),
               coalesce(sum(coalesce(f.bytes_total, f.size_hint)), 0),
               coalesce(sum(f.bytes_total IS NULL AND f.size_hint IS NULL), 0)
        """

    static func group(_ db: Connection, _ groupRowID: Int64) throws(QueueError) -> TransferProgress {
        try read(
            db.statement(
                columns + """
                     FROM jobs j JOIN files f ON f.job_id = j.id WHERE j.group_id = ? AND j.state = 'active'
                    """
            ).bind(.integer(groupRowID)))
    }

    static func job(_ db: Connection, _ jobRowID: Int64) throws(QueueError) -> TransferProgress {
        try read(db.statement(columns + " FROM files f WHERE f.job_id = ?").bind(.integer(jobRowID)))
    }

    private static func read(_ statement: Statement) throws(QueueError) -> TransferProgress {
        _ = try statement.step()
        return TransferProgress(
            bytesDone: UInt64(statement.int64(2)),
            bytesTotal: UInt64(statement.int64(3)),
            filesDone: statement.int(1),
            filesTotal: statement.int(0),
            filesOfUnknownSize: statement.int(4))
    }
}
