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
        try core.store.write { [id] db throws(QueueError) in try db.createJob(jobID, in: id, at: now) }
        return Job(id: jobID, group: id, core: core)
    }

    /// Opens a live job of this group (QMGR: GetJob).
    ///
    /// - Throws: `notFound` if the group has no live job with `id`, or the group was cancelled.
    public func job(_ jobID: JobID) throws(QueueError) -> Job {
        try core.store.read { [id] db throws(QueueError) in _ = try db.liveJob(group: id, job: jobID) }
        return Job(id: jobID, group: id, core: core)
    }

    /// The group's live jobs in creation order, as a snapshot taken now (QMGR: EnumJobs).
    ///
    /// - Throws: `notFound` if the group was cancelled.
    public func jobs() throws(QueueError) -> [Job] {
        try core.store.read { [id] db throws(QueueError) in try db.liveJobIDs(in: id) }.map { Job(id: $0, group: id, core: core) }
    }
}
