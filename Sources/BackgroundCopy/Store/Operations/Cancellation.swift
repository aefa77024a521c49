/// The one cancel transaction, for a whole group or a single job (DESIGN.md, Durability step 4):
/// complete (and finalizing) files become `retained`, the rest `discarded`, the jobs tombstones.
/// The caller records the event and applies the returned file effects after the commit.
struct Cancellation {
    /// Which active jobs to cancel: all of a group's, or one.
    enum Scope {
        case group(Int64)
        case job(Int64)

        var jobs: String {
            switch self {
            case .group: "SELECT id FROM jobs WHERE group_id = ?1 AND state = 'active'"
            case .job: "SELECT id FROM jobs WHERE id = ?1 AND state = 'active'"
            }
        }

        var rowID: Int64 {
            switch self {
            case .group(let id), .job(let id): id
            }
        }
    }

    let scope: Scope
    let now: Int64

    struct Outcome: Sendable {
        var retained = 0
        var discarded = 0
        var effects: [FileEffect] = []

        var summary: String { "retained \(retained), discarded \(discarded)" }
    }

    func run(_ db: Connection) throws(QueueError) -> Outcome {
        var outcome = Outcome()
        let temps = try db.statement(
            """
            SELECT id, state, temp_path, local_path FROM files
            WHERE job_id IN (\(scope.jobs)) AND temp_path IS NOT NULL
            """
        ).bind(.integer(scope.rowID))
        while try temps.step() {
            let action: FileEffect.Action = temps.text(1) == FileState.finalizing.rawValue ? .finishRename : .removeTemp
            outcome.effects.append(FileEffect(fileRowID: temps.int64(0), action: action, tempPath: temps.text(2), localPath: temps.text(3)))
        }
        try db.statement(
            """
            UPDATE files SET state = 'retained' WHERE job_id IN (\(scope.jobs)) AND state IN ('complete', 'finalizing')
            """
        ).bind(.integer(scope.rowID)).run()
        outcome.retained = db.changes
        try db.statement(
            """
            UPDATE files SET state = 'discarded' WHERE job_id IN (\(scope.jobs)) AND state NOT IN ('retained', 'discarded')
            """
        ).bind(.integer(scope.rowID)).run()
        outcome.discarded = db.changes
        let tombstone =
            switch scope {
            case .group: "UPDATE jobs SET state = 'cancelled', cancelled_at = ?2 WHERE group_id = ?1 AND state = 'active'"
            case .job: "UPDATE jobs SET state = 'cancelled', cancelled_at = ?2 WHERE id = ?1 AND state = 'active'"
            }
        try db.statement(tombstone).bind(.integer(scope.rowID), .integer(now)).run()
        return outcome
    }
}
