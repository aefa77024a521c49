import Foundation

extension Group {
    /// Adds a new, empty job at the end of the group (QMGR: CreateJob, which allowed only one).
    ///
    /// - Parameter jobID: The job's ID (the `id:` argument); a new random one if `nil`.
    /// - Throws: `alreadyExists` if any job, live or cancelled, has that ID; `notFound` if the group was cancelled.
    @discardableResult
    public func createJob(id jobID: JobID? = nil) throws(QueueError) -> Job {
        let jobID = jobID ?? JobID()
        let now = core.now()
        try core.store.write { db throws(QueueError) in
            let row = try core.liveGroup(db, id)
            let existing = try db.statement("SELECT 1 FROM jobs WHERE uuid = ?").bind(.blob(jobID.uuid.bytes))
            guard try !existing.step() else { throw .alreadyExists("job", jobID.description) }
            try db.statement("INSERT INTO jobs (uuid, group_id, created_at) VALUES (?, ?, ?)")
                .bind(.blob(jobID.uuid.bytes), .integer(row.rowID), .integer(now)).run()
            try EventLog.record(db, .modified, group: row.rowID, job: db.lastInsertRowID, state: row.state, detail: "job created", at: now)
        }
        return Job(id: jobID, group: id, core: core)
    }

    /// Opens a live job of this group (QMGR: GetJob).
    ///
    /// - Throws: `notFound` if the group has no live job with `id`, or the group was cancelled.
    public func job(_ jobID: JobID) throws(QueueError) -> Job {
        try core.store.read { db throws(QueueError) in _ = try core.liveJob(db, group: id, job: jobID) }
        return Job(id: jobID, group: id, core: core)
    }

    /// The group's live jobs in creation order, as a snapshot taken now (QMGR: EnumJobs).
    ///
    /// - Throws: `notFound` if the group was cancelled.
    public func jobs() throws(QueueError) -> [Job] {
        try core.store.read { db throws(QueueError) in
            let row = try core.liveGroup(db, id)
            let statement = try db.statement("SELECT uuid FROM jobs WHERE group_id = ? AND state = 'active' ORDER BY id")
                .bind(.integer(row.rowID))
            var jobs: [Job] = []
            while try statement.step() {
                if let uuid = UUID(bytes: statement.blob(0)) { jobs.append(Job(id: JobID(uuid), group: id, core: core)) }
            }
            return jobs
        }
    }
}
